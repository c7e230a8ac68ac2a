/* test-question.c: MTurk question XML checks and QuestionFormAnswers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-test-util.h"

#define NS "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
#define FORM_2005 NS "2005-10-01/QuestionForm.xsd"
#define FORM_2017 NS "2017-11-06/QuestionForm.xsd"
#define HTML_NS NS "2011-11-11/HTMLQuestion.xsd"
#define EXTERNAL_NS NS "2006-07-14/ExternalQuestion.xsd"
#define ANSWERS_NS NS "2005-10-01/QuestionFormAnswers.xsd"

#define FORM_OPEN(ns) "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<QuestionForm xmlns=\"" ns "\">\n"
#define FORM_CLOSE "</QuestionForm>\n"

/* A minimal valid free-text question, to pad forms around the part a test
 * is about. */
#define SIMPLE_QUESTION(id) \
  "<Question><QuestionIdentifier>" id "</QuestionIdentifier>" \
  "<QuestionContent><Text>Say something</Text></QuestionContent>" \
  "<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>\n"

/* Every content element, answer kind and option the 2005 schema has. */
static const char full_form_2005[] =
  FORM_OPEN (FORM_2005)
  "<Overview>\n"
  "  <Title>Game 01523, \"X\" to play</Title>\n"
  "  <Text>You are helping to decide the next move &amp; more.</Text>\n"
  "  <List><ListItem>One</ListItem><ListItem>Two</ListItem></List>\n"
  "  <Binary>\n"
  "    <MimeType><Type>image</Type><SubType>gif</SubType></MimeType>\n"
  "    <DataURL>http://tictactoe.amazon.com/game/01523/board.gif</DataURL>\n"
  "    <AltText>The game board</AltText>\n"
  "  </Binary>\n"
  "  <EmbeddedBinary>\n"
  "    <EmbeddedMimeType><Type>video</Type><SubType>mp4</SubType></EmbeddedMimeType>\n"
  "    <DataURL>https://example.com/clip.mp4</DataURL>\n"
  "    <AltText>A clip</AltText>\n"
  "    <Width>320</Width><Height>240</Height>\n"
  "    <ApplicationParameter><Name>autoplay</Name><Value>false</Value></ApplicationParameter>\n"
  "  </EmbeddedBinary>\n"
  "  <FormattedContent><![CDATA[<p>Read <b>carefully</b>.</p>]]></FormattedContent>\n"
  "</Overview>\n"
  "<Question>\n"
  "  <QuestionIdentifier>nextmove</QuestionIdentifier>\n"
  "  <DisplayName>The Next Move</DisplayName>\n"
  "  <IsRequired>true</IsRequired>\n"
  "  <QuestionContent><Title>The next move</Title><Text>Which square?</Text></QuestionContent>\n"
  "  <AnswerSpecification>\n"
  "    <SelectionAnswer>\n"
  "      <MinSelectionCount>1</MinSelectionCount>\n"
  "      <MaxSelectionCount>2</MaxSelectionCount>\n"
  "      <StyleSuggestion>radiobutton</StyleSuggestion>\n"
  "      <Selections>\n"
  "        <Selection><SelectionIdentifier>C1</SelectionIdentifier><Text>Top left</Text></Selection>\n"
  "        <Selection><SelectionIdentifier>C2</SelectionIdentifier>"
  "<FormattedContent><![CDATA[<i>Top</i> middle]]></FormattedContent></Selection>\n"
  "        <Selection><SelectionIdentifier>C3</SelectionIdentifier><Binary>"
  "<MimeType><Type>image</Type></MimeType><DataURL>https://example.com/c3.png</DataURL>"
  "<AltText>Top right</AltText></Binary></Selection>\n"
  "        <OtherSelection>\n"
  "          <Constraints><Length minLength=\"2\" maxLength=\"10\"/></Constraints>\n"
  "        </OtherSelection>\n"
  "      </Selections>\n"
  "    </SelectionAnswer>\n"
  "  </AnswerSpecification>\n"
  "</Question>\n"
  "<Overview><Text>Now some free text.</Text></Overview>\n"
  "<Question>\n"
  "  <QuestionIdentifier>age</QuestionIdentifier>\n"
  "  <IsRequired>false</IsRequired>\n"
  "  <QuestionContent><Text>How old is the board?</Text></QuestionContent>\n"
  "  <AnswerSpecification>\n"
  "    <FreeTextAnswer>\n"
  "      <Constraints>\n"
  "        <IsNumeric minValue=\"1\" maxValue=\"120\"/>\n"
  "        <Length minLength=\"1\" maxLength=\"3\"/>\n"
  "        <AnswerFormatRegex regex=\"^[0-9]+$\" errorText=\"Digits only, please\"/>\n"
  "      </Constraints>\n"
  "      <DefaultText>18</DefaultText>\n"
  "      <NumberOfLinesSuggestion>1</NumberOfLinesSuggestion>\n"
  "    </FreeTextAnswer>\n"
  "  </AnswerSpecification>\n"
  "</Question>\n"
  "<Question>\n"
  "  <QuestionIdentifier>name</QuestionIdentifier>\n"
  "  <IsRequired>true</IsRequired>\n"
  "  <QuestionContent><Text>Name the game</Text></QuestionContent>\n"
  "  <AnswerSpecification><FreeTextAnswer><Constraints>"
  "<AnswerFormatRegex regex=\"^tic\" flags=\"i\"/>"
  "<AnswerFormatRegex regex=\"toe$\" errorText=\"It ends with toe\"/>"
  "</Constraints></FreeTextAnswer></AnswerSpecification>\n"
  "</Question>\n"
  "<Question>\n"
  "  <QuestionIdentifier>photo</QuestionIdentifier>\n"
  "  <QuestionContent><Text>Upload a photo of your board</Text></QuestionContent>\n"
  "  <AnswerSpecification><FileUploadAnswer>"
  "<MaxFileSizeInBytes>1000000</MaxFileSizeInBytes>"
  "<MinFileSizeInBytes>10</MinFileSizeInBytes>"
  "</FileUploadAnswer></AnswerSpecification>\n"
  "</Question>\n"
  "<Question>\n"
  "  <QuestionIdentifier>colours</QuestionIdentifier>\n"
  "  <QuestionContent><Text>Pick colours</Text></QuestionContent>\n"
  "  <AnswerSpecification><SelectionAnswer>"
  "<MinSelectionCount>0</MinSelectionCount><MaxSelectionCount>3</MaxSelectionCount>"
  "<StyleSuggestion>checkbox</StyleSuggestion><Selections>"
  "<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>"
  "<Selection><SelectionIdentifier>green</SelectionIdentifier><Text>Green</Text></Selection>"
  "<Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue</Text></Selection>"
  "</Selections></SelectionAnswer></AnswerSpecification>\n"
  "</Question>\n"
  FORM_CLOSE;

static KpQuestionInfo *
parse_ok (const char *xml)
{
  g_autoptr(GError) error = NULL;
  KpQuestionInfo *info = kp_question_parse (xml, -1, &error);

  if (error != NULL)
    g_printerr ("unexpected error for:\n%s\n", xml);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  return info;
}

/* Parses xml expecting INVALID, with every one of the NULL-terminated
 * fragments in the message. */
static void
parse_invalid (const char *xml,
               gssize      length,
               ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpQuestionInfo) info = kp_question_parse (xml, length, &error);
  va_list args;

  if (info != NULL)
    g_printerr ("expected an error for:\n%s\n", xml);
  g_assert_null (info);
  g_assert_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID);
  g_assert_true (g_str_has_prefix (error->message, "Question is not valid: "));

  va_start (args, length);
  for (const char *fragment = va_arg (args, const char *); fragment != NULL;
       fragment = va_arg (args, const char *))
    {
      if (strstr (error->message, fragment) == NULL)
        g_error ("“%s” lacks “%s”", error->message, fragment);
    }
  va_end (args);
}

static void
test_full_form (void)
{
  g_autoptr(KpQuestionInfo) info = parse_ok (full_form_2005);
  const char *expected[] = { "nextmove", "age", "name", "photo", "colours" };

  g_assert_cmpint (info->kind, ==, KP_QUESTION_FORM);
  g_assert_null (info->external_url);
  g_assert_null (info->html_content);
  g_assert_cmpint (info->frame_height, ==, -1);
  g_assert_cmpuint (info->question_ids->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    g_assert_cmpstr (info->question_ids->pdata[i], ==, expected[i]);
}

static void
test_form_2017 (void)
{
  g_autoptr(KpQuestionInfo) info = NULL;
  g_autofree char *xml = NULL;
  static const char * const styles[] = {
    "radiobutton", "checkbox", "list", "dropdown", "combobox", "multichooser",
  };
  g_autoptr(GString) questions = g_string_new ("");

  /* Every StyleSuggestion, each in its own question. */
  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    g_string_append_printf (questions,
                            "<Question><QuestionIdentifier>%s</QuestionIdentifier>"
                            "<QuestionContent><Text>Pick</Text></QuestionContent>"
                            "<AnswerSpecification><SelectionAnswer>"
                            "<StyleSuggestion>%s</StyleSuggestion><Selections>"
                            "<Selection><SelectionIdentifier>a</SelectionIdentifier><Text>A</Text></Selection>"
                            "</Selections></SelectionAnswer></AnswerSpecification></Question>\n",
                            styles[i], styles[i]);

  xml = g_strconcat (FORM_OPEN (FORM_2017), questions->str, SIMPLE_QUESTION ("free"),
                     FORM_CLOSE, NULL);
  info = parse_ok (xml);
  g_assert_cmpint (info->kind, ==, KP_QUESTION_FORM);
  g_assert_cmpuint (info->question_ids->len, ==, G_N_ELEMENTS (styles) + 1);
  g_assert_cmpstr (info->question_ids->pdata[0], ==, "radiobutton");
  g_assert_cmpstr (info->question_ids->pdata[G_N_ELEMENTS (styles)], ==, "free");
}

static void
test_form_variants (void)
{
  /* Prefixed namespace, comments, a processing instruction, xml:lang and
   * xsi:schemaLocation are all fine in a schema-valid document. */
  const char *prefixed =
    "<mt:QuestionForm xmlns:mt=\"" FORM_2005 "\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
    "xsi:schemaLocation=\"" FORM_2005 " x.xsd\">"
    "<!-- a comment --><?pi data?>"
    "<mt:Question xml:lang=\"en\"><mt:QuestionIdentifier>q</mt:QuestionIdentifier>"
    "<mt:QuestionContent><mt:Text>Hi</mt:Text></mt:QuestionContent>"
    "<mt:AnswerSpecification><mt:FreeTextAnswer/></mt:AnswerSpecification></mt:Question>"
    "</mt:QuestionForm>";
  g_autoptr(KpQuestionInfo) info = parse_ok (prefixed);
  g_autoptr(KpQuestionInfo) info2 = NULL;
  g_autofree char *unicode = NULL;

  g_assert_cmpuint (info->question_ids->len, ==, 1);
  g_assert_cmpstr (info->question_ids->pdata[0], ==, "q");

  unicode = g_strconcat (FORM_OPEN (FORM_2005), SIMPLE_QUESTION ("frage-ä-€-😀"), FORM_CLOSE, NULL);
  info2 = parse_ok (unicode);
  g_assert_cmpstr (info2->question_ids->pdata[0], ==, "frage-ä-€-😀");

  /* An explicit length stops before trailing bytes. */
  {
    g_autofree char *padded = g_strconcat (unicode, "garbage<<<", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KpQuestionInfo) info3 = kp_question_parse (padded, strlen (unicode), &error);

    g_assert_no_error (error);
    g_assert_nonnull (info3);
  }
}

static void
test_html_question (void)
{
  const char *xml =
    "<HTMLQuestion xmlns=\"" HTML_NS "\">\n"
    "  <HTMLContent><![CDATA[<!DOCTYPE html>\n"
    "<html><head><script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script></head>\n"
    "<body><crowd-form><crowd-input name=\"x\" required></crowd-input></crowd-form></body></html>\n"
    "]]></HTMLContent>\n"
    "  <FrameHeight>600</FrameHeight>\n"
    "</HTMLQuestion>\n";
  const char *escaped =
    "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>&lt;p&gt;a &amp; b&lt;/p&gt;</HTMLContent>"
    "<FrameHeight>0</FrameHeight></HTMLQuestion>";
  g_autoptr(KpQuestionInfo) info = parse_ok (xml);
  g_autoptr(KpQuestionInfo) info2 = parse_ok (escaped);

  g_assert_cmpint (info->kind, ==, KP_QUESTION_HTML);
  g_assert_cmpint (info->frame_height, ==, 600);
  g_assert_true (g_str_has_prefix (info->html_content, "<!DOCTYPE html>\n<html>"));
  g_assert_nonnull (strstr (info->html_content, "<crowd-input name=\"x\" required></crowd-input>"));
  g_assert_null (info->external_url);
  g_assert_cmpuint (info->question_ids->len, ==, 0);

  g_assert_cmpstr (info2->html_content, ==, "<p>a & b</p>");
  g_assert_cmpint (info2->frame_height, ==, 0);
}

static void
test_external_question (void)
{
  const char *xml =
    "<?xml version=\"1.0\"?>\n"
    "<ExternalQuestion xmlns=\"" EXTERNAL_NS "\">\n"
    "  <ExternalURL>https://tictactoe.example.com/game?id=01523&amp;lang=en</ExternalURL>\n"
    "  <FrameHeight>0</FrameHeight>\n"
    "</ExternalQuestion>\n";
  g_autoptr(KpQuestionInfo) info = parse_ok (xml);

  g_assert_cmpint (info->kind, ==, KP_QUESTION_EXTERNAL);
  g_assert_cmpstr (info->external_url, ==, "https://tictactoe.example.com/game?id=01523&lang=en");
  g_assert_cmpint (info->frame_height, ==, 0);
  g_assert_null (info->html_content);
  g_assert_cmpuint (info->question_ids->len, ==, 0);
}

/* Wraps a Question's inside, or a whole QuestionForm body. */
#define Q(inside) FORM_OPEN (FORM_2005) "<Question>" inside "</Question>" FORM_CLOSE
#define QID "<QuestionIdentifier>q</QuestionIdentifier>"
#define QC "<QuestionContent><Text>T</Text></QuestionContent>"
#define AS(answer) "<AnswerSpecification>" answer "</AnswerSpecification>"
#define SEL(id) "<Selection><SelectionIdentifier>" id "</SelectionIdentifier><Text>" id "</Text></Selection>"
#define SELANS(inside) Q (QID QC AS ("<SelectionAnswer>" inside "</SelectionAnswer>"))
#define FREE(inside) Q (QID QC AS ("<FreeTextAnswer>" inside "</FreeTextAnswer>"))
#define CONTENT(inside) Q (QID "<QuestionContent>" inside "</QuestionContent>" AS ("<FreeTextAnswer/>"))

static const struct {
  const char *name;
  const char *xml;
  const char *fragment;
} invalid_forms[] = {
  /* QuestionForm */
  { "no-question", FORM_OPEN (FORM_2005) "<Overview><Text>x</Text></Overview>" FORM_CLOSE,
    "at least one Question" },
  { "empty-form", FORM_OPEN (FORM_2005) FORM_CLOSE, "at least one Question" },
  { "unknown-child", FORM_OPEN (FORM_2005) "<Foo/>" SIMPLE_QUESTION ("q") FORM_CLOSE, "“Foo”" },
  { "text-in-form", FORM_OPEN (FORM_2005) "hello" SIMPLE_QUESTION ("q") FORM_CLOSE, "not text" },
  { "root-attribute", "<QuestionForm xmlns=\"" FORM_2005 "\" bogus=\"1\">" SIMPLE_QUESTION ("q") FORM_CLOSE,
    "no attribute “bogus”" },
  { "empty-overview", FORM_OPEN (FORM_2005) "<Overview/>" SIMPLE_QUESTION ("q") FORM_CLOSE,
    "at least one of Title" },
  /* Question */
  { "no-identifier", Q (QC AS ("<FreeTextAnswer/>")), "QuestionIdentifier" },
  { "empty-identifier", Q ("<QuestionIdentifier>  </QuestionIdentifier>" QC AS ("<FreeTextAnswer/>")),
    "must not be empty" },
  { "duplicate-identifier", FORM_OPEN (FORM_2005) SIMPLE_QUESTION ("q1") SIMPLE_QUESTION ("q1") FORM_CLOSE,
    "QuestionIdentifier “q1” is used twice" },
  { "no-content", Q (QID AS ("<FreeTextAnswer/>")),
    "“Question” lacks the required element “QuestionContent” before “AnswerSpecification”" },
  { "tag-mismatch", "<HTMLQuestion xmlns=\"" HTML_NS "\">\n<HTMLContent>x</Title>\n</HTMLQuestion>",
    "line 2: the XML is not well-formed: Opening and ending tag mismatch" },
  { "no-answer-spec", Q (QID QC), "“Question” lacks the required element “AnswerSpecification”" },
  { "order", Q (QC QID AS ("<FreeTextAnswer/>")), "QuestionIdentifier" },
  { "two-displaynames", Q (QID "<DisplayName>a</DisplayName><DisplayName>b</DisplayName>" QC
                           AS ("<FreeTextAnswer/>")), "only once" },
  { "isrequired-yes", Q (QID "<IsRequired>yes</IsRequired>" QC AS ("<FreeTextAnswer/>")),
    "IsRequired must be" },
  { "identifier-child", Q ("<QuestionIdentifier>a<b/></QuestionIdentifier>" QC AS ("<FreeTextAnswer/>")),
    "only contain text" },
  /* AnswerSpecification */
  { "empty-answer-spec", Q (QID QC AS ("")), "exactly one of" },
  { "two-answers", Q (QID QC AS ("<FreeTextAnswer/><FreeTextAnswer/>")), "exactly one of" },
  { "unknown-answer", Q (QID QC AS ("<SliderAnswer/>")), "“SliderAnswer”" },
  /* FreeTextAnswer */
  { "free-unknown", FREE ("<Foo/>"), "“Foo”" },
  { "free-lines-zero", FREE ("<NumberOfLinesSuggestion>0</NumberOfLinesSuggestion>"),
    "NumberOfLinesSuggestion must be a whole number" },
  { "free-order", FREE ("<DefaultText>x</DefaultText><Constraints/>"), "“Constraints”" },
  { "numeric-bad", FREE ("<Constraints><IsNumeric minValue=\"one\"/></Constraints>"), "minValue" },
  { "numeric-range", FREE ("<Constraints><IsNumeric minValue=\"5\" maxValue=\"1\"/></Constraints>"),
    "greater than maxValue" },
  { "numeric-attr", FREE ("<Constraints><IsNumeric min=\"5\"/></Constraints>"), "“min”" },
  { "length-negative", FREE ("<Constraints><Length minLength=\"-1\"/></Constraints>"), "minLength" },
  { "length-range", FREE ("<Constraints><Length minLength=\"5\" maxLength=\"2\"/></Constraints>"),
    "greater than maxLength" },
  { "regex-missing", FREE ("<Constraints><AnswerFormatRegex errorText=\"x\"/></Constraints>"),
    "needs a “regex”" },
  { "regex-broken", FREE ("<Constraints><AnswerFormatRegex regex=\"([a-z\"/></Constraints>"),
    "not a valid regular expression" },
  { "regex-flags", FREE ("<Constraints><AnswerFormatRegex regex=\"a\" flags=\"q\"/></Constraints>"),
    "flags" },
  { "constraint-order", FREE ("<Constraints><Length maxLength=\"2\"/><IsNumeric/></Constraints>"),
    "out of place" },
  { "constraint-child", FREE ("<Constraints><IsNumeric><Foo/></IsNumeric></Constraints>"), "“Foo”" },
  /* SelectionAnswer */
  { "no-selections", SELANS ("<StyleSuggestion>list</StyleSuggestion>"), "“Selections”" },
  { "empty-selections", SELANS ("<Selections></Selections>"), "“Selection”" },
  { "bad-style", SELANS ("<StyleSuggestion>slider</StyleSuggestion><Selections>" SEL ("a") "</Selections>"),
    "StyleSuggestion must be" },
  { "max-zero", SELANS ("<MaxSelectionCount>0</MaxSelectionCount><Selections>" SEL ("a") "</Selections>"),
    "MaxSelectionCount" },
  { "min-over-max", SELANS ("<MinSelectionCount>2</MinSelectionCount><MaxSelectionCount>1</MaxSelectionCount>"
                            "<Selections>" SEL ("a") SEL ("b") "</Selections>"),
    "greater than" },
  { "min-over-choices", SELANS ("<MinSelectionCount>3</MinSelectionCount><MaxSelectionCount>3</MaxSelectionCount>"
                                "<Selections>" SEL ("a") SEL ("b") "</Selections>"),
    "2 choices" },
  { "selection-dup", SELANS ("<Selections>" SEL ("a") SEL ("a") "</Selections>"),
    "SelectionIdentifier “a” is used twice" },
  { "selection-no-text", SELANS ("<Selections><Selection><SelectionIdentifier>a</SelectionIdentifier>"
                                 "</Selection></Selections>"), "needs a SelectionIdentifier and" },
  { "selection-list", SELANS ("<Selections><Selection><SelectionIdentifier>a</SelectionIdentifier>"
                              "<List><ListItem>x</ListItem></List></Selection></Selections>"),
    "not “List”" },
  { "selection-order", SELANS ("<Selections><Selection><Text>a</Text>"
                               "<SelectionIdentifier>a</SelectionIdentifier></Selection></Selections>"),
    "must start with SelectionIdentifier" },
  { "other-first", SELANS ("<Selections><OtherSelection/>" SEL ("a") "</Selections>"), "“Selection”" },
  { "two-others", SELANS ("<Selections>" SEL ("a") "<OtherSelection/><OtherSelection/></Selections>"),
    "only once" },
  /* FileUploadAnswer */
  { "upload-missing-min", Q (QID QC AS ("<FileUploadAnswer><MaxFileSizeInBytes>10</MaxFileSizeInBytes>"
                                        "</FileUploadAnswer>")), "MinFileSizeInBytes" },
  { "upload-range", Q (QID QC AS ("<FileUploadAnswer><MaxFileSizeInBytes>10</MaxFileSizeInBytes>"
                                  "<MinFileSizeInBytes>20</MinFileSizeInBytes></FileUploadAnswer>")),
    "greater than MaxFileSizeInBytes" },
  { "upload-huge", Q (QID QC AS ("<FileUploadAnswer><MaxFileSizeInBytes>3000000000</MaxFileSizeInBytes>"
                                 "<MinFileSizeInBytes>0</MinFileSizeInBytes></FileUploadAnswer>")),
    "MaxFileSizeInBytes must be" },
  { "upload-2017", FORM_OPEN (FORM_2017) "<Question>" QID QC
                   AS ("<FileUploadAnswer><MaxFileSizeInBytes>10</MaxFileSizeInBytes>"
                       "<MinFileSizeInBytes>0</MinFileSizeInBytes></FileUploadAnswer>") "</Question>" FORM_CLOSE,
    "2017-11-06" },
  /* Content */
  { "application", CONTENT ("<Application><JavaApplet><AppletPath>x</AppletPath></JavaApplet></Application>"),
    "no longer supported" },
  { "unknown-content", CONTENT ("<Paragraph>x</Paragraph>"), "“Paragraph”" },
  { "empty-formatted", CONTENT ("<FormattedContent><![CDATA[  ]]></FormattedContent>"), "must not be empty" },
  { "empty-list", CONTENT ("<List/>"), "“ListItem”" },
  { "list-text", CONTENT ("<List>x<ListItem>y</ListItem></List>"), "not text" },
  { "binary-no-alt", CONTENT ("<Binary><MimeType><Type>image</Type></MimeType>"
                              "<DataURL>https://e.com/a.png</DataURL></Binary>"), "“AltText”" },
  { "binary-type", CONTENT ("<Binary><MimeType><Type>application</Type></MimeType>"
                            "<DataURL>https://e.com/a.png</DataURL><AltText>a</AltText></Binary>"),
    "Type must be" },
  { "binary-url", CONTENT ("<Binary><MimeType><Type>image</Type></MimeType>"
                           "<DataURL>not a url</DataURL><AltText>a</AltText></Binary>"),
    "not a valid URL" },
  { "binary-scheme", CONTENT ("<Binary><MimeType><Type>image</Type></MimeType>"
                              "<DataURL>file:///etc/passwd</DataURL><AltText>a</AltText></Binary>"),
    "http or https" },
  { "embedded-no-size", CONTENT ("<EmbeddedBinary><EmbeddedMimeType><Type>video</Type></EmbeddedMimeType>"
                                 "<DataURL>https://e.com/a.mp4</DataURL><AltText>a</AltText>"
                                 "</EmbeddedBinary>"), "“Width”" },
  { "title-child", CONTENT ("<Title>a<b>b</b></Title>"), "only contain text" },
  { "content-attribute", CONTENT ("<Text style=\"x\">a</Text>"), "no attribute “style”" },
  /* Namespaces */
  { "no-namespace", "<QuestionForm>" SIMPLE_QUESTION ("q") "</QuestionForm>", "has no namespace" },
  { "wrong-date", "<QuestionForm xmlns=\"" NS "2011-11-11/QuestionForm.xsd\">" SIMPLE_QUESTION ("q")
                  "</QuestionForm>", "not one MTurk publishes" },
  { "html-in-form-ns", "<HTMLQuestion xmlns=\"" FORM_2005 "\"><HTMLContent>x</HTMLContent>"
                       "<FrameHeight>1</FrameHeight></HTMLQuestion>", "not one MTurk publishes" },
  { "unknown-root", "<Survey xmlns=\"" FORM_2005 "\"/>", "not “Survey”" },
  { "foreign-child", FORM_OPEN (FORM_2005) "<Question xmlns=\"urn:other\"><QuestionIdentifier>q"
                     "</QuestionIdentifier></Question>" FORM_CLOSE, "urn:other" },
  { "xinclude", FORM_OPEN (FORM_2005) "<xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
                "href=\"file:///etc/passwd\" parse=\"text\"/>" SIMPLE_QUESTION ("q") FORM_CLOSE,
    "XInclude is not allowed" },
  /* HTMLQuestion and ExternalQuestion */
  { "html-no-height", "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>x</HTMLContent></HTMLQuestion>",
    "“FrameHeight”" },
  { "html-empty", "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent/><FrameHeight>1</FrameHeight>"
                  "</HTMLQuestion>", "must not be empty" },
  { "html-negative", "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>x</HTMLContent>"
                     "<FrameHeight>-5</FrameHeight></HTMLQuestion>", "FrameHeight must be" },
  { "html-raw-markup", "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent><p>x</p></HTMLContent>"
                       "<FrameHeight>1</FrameHeight></HTMLQuestion>", "only contain text" },
  { "external-http", "<ExternalQuestion xmlns=\"" EXTERNAL_NS "\"><ExternalURL>http://example.com/"
                     "</ExternalURL><FrameHeight>400</FrameHeight></ExternalQuestion>", "must be an https URL" },
  { "external-junk", "<ExternalQuestion xmlns=\"" EXTERNAL_NS "\"><ExternalURL>https://</ExternalURL>"
                     "<FrameHeight>400</FrameHeight></ExternalQuestion>", "not a valid URL" },
  { "external-height", "<ExternalQuestion xmlns=\"" EXTERNAL_NS "\"><ExternalURL>https://e.com/"
                       "</ExternalURL><FrameHeight>tall</FrameHeight></ExternalQuestion>", "FrameHeight" },
  { "external-extra", "<ExternalQuestion xmlns=\"" EXTERNAL_NS "\"><ExternalURL>https://e.com/"
                      "</ExternalURL><FrameHeight>1</FrameHeight><FrameHeight>2</FrameHeight>"
                      "</ExternalQuestion>", "only once" },
  /* XML itself */
  { "not-xml", "this is not XML", "not well-formed" },
  { "empty", "", "not well-formed" },
  { "unclosed", FORM_OPEN (FORM_2005) "<Question>", "not well-formed" },
  { "two-roots", "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>x</HTMLContent><FrameHeight>1"
                 "</FrameHeight></HTMLQuestion><HTMLQuestion/>", "not well-formed" },
  { "undefined-entity", "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>&nbsp;</HTMLContent>"
                        "<FrameHeight>1</FrameHeight></HTMLQuestion>", "not well-formed" },
  { "doctype", "<!DOCTYPE HTMLQuestion SYSTEM \"http://example.com/x.dtd\">"
               "<HTMLQuestion xmlns=\"" HTML_NS "\"/>", "DOCTYPE" },
};

static void
test_invalid_forms (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (invalid_forms); i++)
    {
      g_test_message ("%s", invalid_forms[i].name);
      parse_invalid (invalid_forms[i].xml, -1, invalid_forms[i].fragment, NULL);
    }
}

static void
test_error_line (void)
{
  const char *xml =
    "<QuestionForm xmlns=\"" FORM_2005 "\">\n"
    SIMPLE_QUESTION ("q1")
    SIMPLE_QUESTION ("q1")
    "</QuestionForm>\n";

  parse_invalid (xml, -1, "Question is not valid: line 3: QuestionIdentifier “q1” is used twice", NULL);
  parse_invalid ("<HTMLQuestion xmlns=\"" HTML_NS "\">\n\n\n<Bogus>", -1, "line 4", NULL);
}

static void
test_billion_laughs (void)
{
  g_autoptr(GString) xml = g_string_new ("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n"
                                         " <!ENTITY lol \"lol\">\n");
  gint64 start;

  for (int i = 1; i < 10; i++)
    {
      g_string_append_printf (xml, " <!ENTITY lol%d \"", i);
      for (int j = 0; j < 10; j++)
        {
          if (i == 1)
            g_string_append (xml, "&lol;");
          else
            g_string_append_printf (xml, "&lol%d;", i - 1);
        }
      g_string_append (xml, "\">\n");
    }
  g_string_append (xml, "]>\n<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>&lol9;</HTMLContent>"
                   "<FrameHeight>1</FrameHeight></HTMLQuestion>\n");

  start = g_get_monotonic_time ();
  parse_invalid (xml->str, xml->len, "DOCTYPE", "line 2", NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  /* An external entity that would read a local file. */
  parse_invalid ("<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                 "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>&xxe;</HTMLContent>"
                 "<FrameHeight>1</FrameHeight></HTMLQuestion>", -1, "DOCTYPE", NULL);
}

static void
test_deep_nesting (void)
{
  g_autoptr(GString) xml = g_string_new ("<QuestionForm xmlns=\"" FORM_2005 "\">");
  gint64 start;

  /* Short names, to stay within the size limit. */
  for (int i = 0; i < 10000; i++)
    g_string_append (xml, "<a>");
  for (int i = 0; i < 10000; i++)
    g_string_append (xml, "</a>");
  g_string_append (xml, "</QuestionForm>");

  start = g_get_monotonic_time ();
  parse_invalid (xml->str, xml->len, "nested more than 256 deep", NULL);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  /* 10,000 deep without closing tags or a namespace. */
  g_string_truncate (xml, 0);
  for (int i = 0; i < 10000; i++)
    g_string_append (xml, "<a>");
  parse_invalid (xml->str, xml->len, "nested more than 256 deep", NULL);
}

static void
test_too_large (void)
{
  g_autoptr(GString) xml = g_string_new ("<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>");
  g_autoptr(GError) error = NULL;
  g_autoptr(KpQuestionInfo) info = NULL;
  const char *tail = "</HTMLContent><FrameHeight>1</FrameHeight></HTMLQuestion>";

  /* Exactly the limit is fine, one byte more is not. */
  while (xml->len + strlen (tail) < KP_QUESTION_MAX_LENGTH)
    g_string_append_c (xml, 'x');
  g_string_append (xml, tail);
  g_assert_cmpuint (xml->len, ==, 131072);
  info = parse_ok (xml->str);
  g_assert_cmpuint (strlen (info->html_content), ==, 131072 - strlen (tail) - 
                    strlen ("<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>"));
  g_clear_pointer (&info, kp_question_info_free);

  g_string_append_c (xml, ' ');
  info = kp_question_parse (xml->str, -1, &error);
  g_assert_null (info);
  g_assert_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "131072"));
}

static void
test_invalid_utf8 (void)
{
  const char xml[] = "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>caf\xe9</HTMLContent>"
                     "<FrameHeight>1</FrameHeight></HTMLQuestion>";
  const char with_nul[] = "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>a\0b</HTMLContent>"
                          "<FrameHeight>1</FrameHeight></HTMLQuestion>";
  const char latin1[] = "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>"
                        "<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>caf\xe9</HTMLContent>"
                        "<FrameHeight>1</FrameHeight></HTMLQuestion>";

  parse_invalid (xml, -1, "UTF-8", NULL);
  parse_invalid (with_nul, sizeof with_nul - 1, "UTF-8", NULL);
  /* The declared encoding cannot bring invalid bytes in. */
  parse_invalid (latin1, -1, "UTF-8", NULL);
}

/* Answers */

static JsonArray *
json_array_from (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));
  return json_array_ref (json_node_get_array (json_parser_get_root (parser)));
}

static char *
array_to_string (JsonArray *array)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (node, array);
  return json_to_string (node, FALSE);
}

static char *
to_xml_ok (const KpQuestionInfo *info,
           const char           *json)
{
  g_autoptr(JsonArray) answers = json_array_from (json);
  g_autoptr(GError) error = NULL;
  char *xml = kp_question_answers_to_xml (info, answers, &error);

  g_assert_no_error (error);
  g_assert_nonnull (xml);
  return xml;
}

/* answers -> XML -> answers gives the same JSON, and the XML is plain
 * ASCII on one line. */
static void
assert_round_trip (const KpQuestionInfo *info,
                   const char           *json)
{
  g_autoptr(JsonArray) answers = json_array_from (json);
  g_autofree char *expected = array_to_string (answers);
  g_autofree char *xml = to_xml_ok (info, json);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) back = kp_question_answers_from_xml (xml, &error);
  g_autofree char *actual = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (back);
  actual = array_to_string (back);
  g_assert_cmpstr (actual, ==, expected);

  g_assert_true (g_str_has_prefix (xml, "<?xml version=\"1.0\" encoding=\"ASCII\"?>"
                                   "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">"));
  g_assert_true (g_str_has_suffix (xml, "</QuestionFormAnswers>"));
  for (const char *p = xml; *p; p++)
    {
      g_assert_cmpint ((guchar)*p, <, 0x80);
      g_assert_cmpint (*p, !=, '\n');
      g_assert_cmpint (*p, !=, '\r');
    }
}

static void
assert_answers_invalid (const KpQuestionInfo *info,
                        const char           *json,
                        const char           *fragment)
{
  g_autoptr(JsonArray) answers = json_array_from (json);
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = kp_question_answers_to_xml (info, answers, &error);

  if (xml != NULL)
    g_printerr ("expected an error for %s\n", json);
  g_assert_null (xml);
  g_assert_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID);
  if (strstr (error->message, fragment) == NULL)
    g_error ("“%s” lacks “%s”", error->message, fragment);
}

static void
test_answers_round_trip (void)
{
  g_autoptr(KpQuestionInfo) form = parse_ok (full_form_2005);
  g_autofree char *xml = NULL;

  /* Every answer kind against the form. */
  assert_round_trip (form,
                     "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\",\"C3\"]},"
                     " {\"QuestionIdentifier\":\"age\",\"FreeText\":\"42\"},"
                     " {\"QuestionIdentifier\":\"name\",\"FreeText\":\"Tic-tac-toe\"},"
                     " {\"QuestionIdentifier\":\"photo\",\"UploadedFileKey\":\"uploads/a b.png\","
                     "  \"UploadedFileSizeInBytes\":3046},"
                     " {\"QuestionIdentifier\":\"colours\",\"SelectionIdentifier\":[]}]");
  assert_round_trip (form,
                     "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C2\"],"
                     "  \"OtherSelectionText\":\"B2\"},"
                     " {\"QuestionIdentifier\":\"name\",\"FreeText\":\"TIC toe\"}]");
  assert_round_trip (form,
                     "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[],"
                     "  \"OtherSelectionText\":\"centre\"},"
                     " {\"QuestionIdentifier\":\"name\",\"FreeText\":\"tictoe\"},"
                     " {\"QuestionIdentifier\":\"age\",\"FreeText\":\"\"}]");

  /* The exact shape MTurk returns. */
  xml = to_xml_ok (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\"]},"
                         " {\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"},"
                         " {\"QuestionIdentifier\":\"photo\",\"UploadedFileKey\":\"k\","
                         "  \"UploadedFileSizeInBytes\":70}]");
  g_assert_cmpstr (xml, ==,
                   "<?xml version=\"1.0\" encoding=\"ASCII\"?>"
                   "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">"
                   "<Answer><QuestionIdentifier>nextmove</QuestionIdentifier>"
                   "<SelectionIdentifier>C1</SelectionIdentifier></Answer>"
                   "<Answer><QuestionIdentifier>name</QuestionIdentifier>"
                   "<FreeText>tic toe</FreeText></Answer>"
                   "<Answer><QuestionIdentifier>photo</QuestionIdentifier>"
                   "<UploadedFileSizeInBytes>70</UploadedFileSizeInBytes>"
                   "<UploadedFileKey>k</UploadedFileKey></Answer>"
                   "</QuestionFormAnswers>");

  /* No info, and an HTMLQuestion: anything goes, including crowd-form's
   * taskAnswers and an empty list of answers. */
  assert_round_trip (NULL, "[]");
  assert_round_trip (NULL, "[{\"QuestionIdentifier\":\"whatever\",\"SelectionIdentifier\":[\"x\",\"y\"]}]");
}

static void
test_answers_escaping (void)
{
  g_autoptr(KpQuestionInfo) html =
    parse_ok ("<HTMLQuestion xmlns=\"" HTML_NS "\"><HTMLContent>x</HTMLContent>"
              "<FrameHeight>0</FrameHeight></HTMLQuestion>");
  g_autoptr(JsonArray) answers = json_array_new ();
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonArray) back = NULL;
  const char *tricky = "<b>&amp;\"quoted\" 'single' ]]> ]]]]>> \r\n\tline\r Fuß 😀";
  const char *task = "[{\"label\":{\"label\":\"cat\"},\"note\":\"<script>alert(1)</script>\"}]";

  json_object_set_string_member (object, "QuestionIdentifier", "id <&>\"'");
  json_object_set_string_member (object, "FreeText", tricky);
  json_array_add_object_element (answers, json_object_ref (object));

  xml = kp_question_answers_to_xml (html, answers, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (xml, "]]>"));
  g_assert_null (strstr (xml, "<b>"));
  g_assert_null (strstr (xml, "\"quoted"));
  g_assert_nonnull (strstr (xml, "<QuestionIdentifier>id &lt;&amp;&gt;&quot;&apos;</QuestionIdentifier>"));
  g_assert_nonnull (strstr (xml, "&lt;b&gt;&amp;amp;&quot;quoted&quot; &apos;single&apos; ]]&gt;"));
  g_assert_nonnull (strstr (xml, "Fu&#223;"));
  g_assert_nonnull (strstr (xml, "&#128512;"));

  back = kp_question_answers_from_xml (xml, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_array_get_length (back), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (back, 0),
                                                  "QuestionIdentifier"), ==, "id <&>\"'");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (back, 0),
                                                  "FreeText"), ==, tricky);

  /* crowd-form's shape: one taskAnswers FreeText holding JSON. */
  g_clear_pointer (&xml, g_free);
  g_clear_pointer (&back, json_array_unref);
  {
    g_autofree char *quoted = NULL;
    g_autoptr(JsonNode) string_node = json_node_new (JSON_NODE_VALUE);

    json_node_set_string (string_node, task);
    quoted = json_to_string (string_node, FALSE);
    json = g_strdup_printf ("[{\"QuestionIdentifier\":\"taskAnswers\",\"FreeText\":%s}]", quoted);
  }
  assert_round_trip (html, json);
}

static void
test_answers_invalid (void)
{
  g_autoptr(KpQuestionInfo) form = parse_ok (full_form_2005);
  g_autoptr(JsonArray) answers = json_array_new ();
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *xml = NULL;

#define BASE "{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\"]}," \
             "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}"

  /* Sanity: the base set is fine. */
  g_free (to_xml_ok (form, "[" BASE "]"));

  /* Shape of the JSON. */
  assert_answers_invalid (NULL, "[1]", "not a JSON object");
  assert_answers_invalid (NULL, "[{\"FreeText\":\"x\"}]", "QuestionIdentifier");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"\",\"FreeText\":\"x\"}]", "QuestionIdentifier");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":7,\"FreeText\":\"x\"}]", "must be a string");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\"}]", "exactly one of");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"FreeText\":\"x\","
                          "\"SelectionIdentifier\":[]}]", "exactly one of");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"FreeText\":\"x\",\"Extra\":1}]",
                          "unknown member “Extra”");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"FreeText\":\"x\","
                          "\"OtherSelectionText\":\"y\"}]", "OtherSelectionText");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"SelectionIdentifier\":[1]}]",
                          "array of strings");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"SelectionIdentifier\":\"x\"}]",
                          "array of strings");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"UploadedFileKey\":\"k\"}]",
                          "go together");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"UploadedFileKey\":\"k\","
                          "\"UploadedFileSizeInBytes\":-1}]", "UploadedFileSizeInBytes");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"UploadedFileKey\":\"k\","
                          "\"UploadedFileSizeInBytes\":1.5}]", "UploadedFileSizeInBytes");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"FreeText\":\"x\"},"
                          "{\"QuestionIdentifier\":\"a\",\"FreeText\":\"y\"}]", "answered twice");
  assert_answers_invalid (NULL, "[{\"QuestionIdentifier\":\"a\",\"FreeText\":\"bell \\u0007\"}]",
                          "control character");

  /* Against the form. */
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"nope\",\"FreeText\":\"x\"}]",
                          "Answer to question “nope” is not valid: the form has no such question");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "“nextmove”");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[]},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "at least 1 required");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\"]},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"  \"}]",
                          "requires an answer");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"FreeText\":\"C1\"},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "expects “SelectionIdentifier”");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C9\"]},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "“C9” is not one of");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\",\"C1\"]},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "selected twice");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":"
                          "[\"C1\",\"C2\",\"C3\"]},{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "at most 2 allowed");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":"
                          "[\"C1\",\"C2\"],\"OtherSelectionText\":\"x y\"},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "at most 2 allowed");
  /* OtherSelection's own Length constraint. */
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[],"
                          "\"OtherSelectionText\":\"x\"},{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic toe\"}]",
                          "shorter than the 2 required");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"colours\",\"SelectionIdentifier\":[],"
                          "\"OtherSelectionText\":\"pink\"}]", "no OtherSelection");
  /* FreeText constraints: numeric, range, length, regex with and without errorText. */
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"age\",\"FreeText\":\"old\"}]",
                          "“old” is not a number");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"age\",\"FreeText\":\"0\"}]",
                          "less than the smallest value allowed, 1");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"age\",\"FreeText\":\"121\"}]",
                          "more than the largest value allowed, 120");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"age\",\"FreeText\":\"0x10\"}]",
                          "not a number");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"age\",\"FreeText\":\"10.5\"}]",
                          "longer than the 3 allowed");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"age\",\"FreeText\":\"1e2\"}]",
                          "Digits only, please");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\"]},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tac toe\"}]",
                          "does not match the pattern ^tic");
  assert_answers_invalid (form, "[{\"QuestionIdentifier\":\"nextmove\",\"SelectionIdentifier\":[\"C1\"]},"
                          "{\"QuestionIdentifier\":\"name\",\"FreeText\":\"tic tac\"}]",
                          "Answer to question “name” is not valid: It ends with toe");
  /* File sizes. */
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"photo\",\"UploadedFileKey\":\"k\","
                          "\"UploadedFileSizeInBytes\":5}]", "outside the 10 to 1000000");
  assert_answers_invalid (form, "[" BASE ",{\"QuestionIdentifier\":\"photo\",\"UploadedFileKey\":\"k\","
                          "\"UploadedFileSizeInBytes\":1000001}]", "outside the 10 to 1000000");

  /* Invalid UTF-8 in a JsonArray built in code. */
  json_object_set_string_member (object, "QuestionIdentifier", "a");
  json_object_set_string_member (object, "FreeText", "caf\xe9");
  json_array_add_object_element (answers, json_object_ref (object));
  xml = kp_question_answers_to_xml (NULL, answers, &error);
  g_assert_null (xml);
  g_assert_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "UTF-8"));
#undef BASE
}

static void
test_answers_from_xml_invalid (void)
{
  static const struct {
    const char *xml;
    const char *fragment;
  } cases[] = {
    { "not xml", "not well-formed" },
    { "<QuestionFormAnswers/>", "root element" },
    { "<QuestionFormAnswers xmlns=\"" FORM_2005 "\"/>", "root element" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Foo/></QuestionFormAnswers>", "“Foo”" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">text</QuestionFormAnswers>", "not text" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Answer><FreeText>x</FreeText></Answer>"
      "</QuestionFormAnswers>", "QuestionIdentifier" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Answer><QuestionIdentifier>a</QuestionIdentifier>"
      "<FreeText>x</FreeText><FreeText>y</FreeText></Answer></QuestionFormAnswers>", "only once" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Answer><QuestionIdentifier>a</QuestionIdentifier>"
      "<FreeText>x</FreeText><SelectionIdentifier>y</SelectionIdentifier></Answer>"
      "</QuestionFormAnswers>", "nothing else" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Answer><QuestionIdentifier>a</QuestionIdentifier>"
      "<UploadedFileKey>k</UploadedFileKey></Answer></QuestionFormAnswers>", "UploadedFileSizeInBytes" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Answer><QuestionIdentifier>a</QuestionIdentifier>"
      "<UploadedFileSizeInBytes>big</UploadedFileSizeInBytes></Answer></QuestionFormAnswers>",
      "whole number" },
    { "<!DOCTYPE QuestionFormAnswers [<!ENTITY e \"x\">]><QuestionFormAnswers xmlns=\"" ANSWERS_NS
      "\"/>", "DOCTYPE" },
    { "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\"><Answer><QuestionIdentifier>a<b/>"
      "</QuestionIdentifier></Answer></QuestionFormAnswers>", "only contain text" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonArray) answers = kp_question_answers_from_xml (cases[i].xml, &error);

      g_assert_null (answers);
      g_assert_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "QuestionFormAnswers is not valid: "));
      if (strstr (error->message, cases[i].fragment) == NULL)
        g_error ("“%s” lacks “%s”", error->message, cases[i].fragment);
    }

  /* MTurk's own documented example, pretty-printed, with a prefix. */
  {
    const char *xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<a:QuestionFormAnswers xmlns:a=\"" ANSWERS_NS "\">\n"
      "  <a:Answer>\n    <a:QuestionIdentifier>likelytowin</a:QuestionIdentifier>\n"
      "    <a:SelectionIdentifier>notlikely</a:SelectionIdentifier>\n  </a:Answer>\n"
      "  <a:Answer>\n    <a:QuestionIdentifier>upload</a:QuestionIdentifier>\n"
      "    <a:UploadedFileKey>123abc</a:UploadedFileKey>\n"
      "    <a:UploadedFileSizeInBytes>3046</a:UploadedFileSizeInBytes>\n  </a:Answer>\n"
      "</a:QuestionFormAnswers>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonArray) answers = kp_question_answers_from_xml (xml, &error);
    g_autofree char *json = NULL;

    g_assert_no_error (error);
    json = array_to_string (answers);
    g_assert_cmpstr (json, ==,
                     "[{\"QuestionIdentifier\":\"likelytowin\",\"SelectionIdentifier\":[\"notlikely\"]},"
                     "{\"QuestionIdentifier\":\"upload\",\"UploadedFileKey\":\"123abc\","
                     "\"UploadedFileSizeInBytes\":3046}]");
  }
}

/* Truncated and corrupted copies of valid documents: each is either
 * accepted or refused with INVALID, never anything else, and (under ASan)
 * without a memory error. */
static void
test_mutations (void)
{
  const char *answers_xml =
    "<?xml version=\"1.0\" encoding=\"ASCII\"?><QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">"
    "<Answer><QuestionIdentifier>a</QuestionIdentifier><FreeText>x &amp; &#233;</FreeText></Answer>"
    "<Answer><QuestionIdentifier>b</QuestionIdentifier><SelectionIdentifier>s</SelectionIdentifier>"
    "<OtherSelectionText>o</OtherSelectionText></Answer>"
    "<Answer><QuestionIdentifier>c</QuestionIdentifier><UploadedFileSizeInBytes>5"
    "</UploadedFileSizeInBytes><UploadedFileKey>k</UploadedFileKey></Answer></QuestionFormAnswers>";
  static const char bytes[] = "<>/&;\"'=!?[]x \n\xc3\xa9\xff";
  g_autoptr(GRand) rand = g_rand_new_with_seed (20171106);
  guint accepted = 0, refused = 0;

  for (guint i = 0; i < 1500; i++)
    {
      gboolean answers = i % 3 == 2;
      const char *source = answers ? answers_xml : full_form_2005;
      g_autofree char *copy = g_strdup (source);
      gsize length = strlen (copy);
      g_autoptr(GError) error = NULL;
      guint n_changes = g_rand_int_range (rand, 1, 4);

      for (guint j = 0; j < n_changes; j++)
        {
          gsize at;

          if (length == 0)
            break;
          at = g_rand_int_range (rand, 0, length);

          if (g_rand_boolean (rand))
            copy[at] = bytes[g_rand_int_range (rand, 0, sizeof bytes - 1)];
          else
            length = at;
        }
      copy[length] = '\0';

      if (answers)
        {
          g_autoptr(JsonArray) result = kp_question_answers_from_xml (copy, &error);

          g_assert_true ((result == NULL) != (error == NULL));
          if (result != NULL)
            accepted++;
        }
      else
        {
          g_autoptr(KpQuestionInfo) info = kp_question_parse (copy, length, &error);

          g_assert_true ((info == NULL) != (error == NULL));
          if (info != NULL)
            accepted++;
        }

      if (error != NULL)
        {
          g_assert_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          refused++;
        }
    }

  /* Both outcomes happen, so the corruption does reach the checks. */
  g_assert_cmpuint (accepted, >, 0);
  g_assert_cmpuint (refused, >, 500);
}

static gpointer
parse_in_thread (gpointer user_data G_GNUC_UNUSED)
{
  for (int i = 0; i < 50; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KpQuestionInfo) info = kp_question_parse (full_form_2005, -1, &error);
      g_autoptr(KpQuestionInfo) bad = kp_question_parse ("<!DOCTYPE x><x/>", -1, NULL);

      g_assert_no_error (error);
      g_assert_nonnull (info);
      g_assert_null (bad);
    }
  return NULL;
}

static void
test_threads (void)
{
  GThread *threads[4];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("parse", parse_in_thread, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/question/form/full", test_full_form);
  g_test_add_func ("/kempelen/core/question/form/2017", test_form_2017);
  g_test_add_func ("/kempelen/core/question/form/variants", test_form_variants);
  g_test_add_func ("/kempelen/core/question/html", test_html_question);
  g_test_add_func ("/kempelen/core/question/external", test_external_question);
  g_test_add_func ("/kempelen/core/question/invalid", test_invalid_forms);
  g_test_add_func ("/kempelen/core/question/error-line", test_error_line);
  g_test_add_func ("/kempelen/core/question/billion-laughs", test_billion_laughs);
  g_test_add_func ("/kempelen/core/question/deep-nesting", test_deep_nesting);
  g_test_add_func ("/kempelen/core/question/too-large", test_too_large);
  g_test_add_func ("/kempelen/core/question/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/kempelen/core/question/threads", test_threads);
  g_test_add_func ("/kempelen/core/question/mutations", test_mutations);
  g_test_add_func ("/kempelen/core/answers/round-trip", test_answers_round_trip);
  g_test_add_func ("/kempelen/core/answers/escaping", test_answers_escaping);
  g_test_add_func ("/kempelen/core/answers/invalid", test_answers_invalid);
  g_test_add_func ("/kempelen/core/answers/from-xml-invalid", test_answers_from_xml_invalid);

  return g_test_run ();
}
