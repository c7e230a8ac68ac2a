/* test-regions.c: the regions model and its file formats
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each format is checked three ways: our export of a known set of regions
 * equals a reference written by hand in the format's real syntax (the
 * files in tests/core/regions/), the reference reads back as that set, and
 * export → import → export is stable.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kp-core.h"
#include "kp-test-util.h"

#define RATE 48000

/* The known set: overlapping speakers, a quote, an ampersand, a comma. */
static KpRegions *
make_reference_set (void)
{
  KpRegions *regions = kp_regions_new (RATE);
  g_autoptr(KpRegion) a = kp_region_new (24000, 60000, "Alice", "greeting");
  g_autoptr(KpRegion) b = kp_region_new (48000, 96000, "Bob", "reply");
  g_autoptr(KpRegion) c = kp_region_new (120000, 144000, "Alice", "laugh");

  kp_region_set_transcript (a, "Hello, \"world\"");
  kp_region_set_attribute (a, "emotion", "happy");
  kp_region_set_transcript (b, "Hi & bye");
  kp_regions_add (regions, c);
  kp_regions_add (regions, a);
  kp_regions_add (regions, b);
  return regions;
}

typedef enum
{
  CHECK_TIER       = 1 << 0,
  CHECK_LABEL      = 1 << 1,
  CHECK_TRANSCRIPT = 1 << 2,
  CHECK_ATTRIBUTES = 1 << 3,
} CheckFlags;

static void
assert_reference_set (KpRegions  *regions,
                      CheckFlags  flags)
{
  static const struct {
    gint64 start, end;
    const char *tier, *label, *transcript, *emotion;
  } expected[] = {
    { 24000, 60000, "Alice", "greeting", "Hello, \"world\"", "happy" },
    { 48000, 96000, "Bob", "reply", "Hi & bye", NULL },
    { 120000, 144000, "Alice", "laugh", "", NULL },
  };

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      KpRegion *r = kp_regions_get_region (regions, i);

      g_assert_cmpint (kp_region_get_start (r), ==, expected[i].start);
      g_assert_cmpint (kp_region_get_end (r), ==, expected[i].end);
      if (flags & CHECK_TIER)
        g_assert_cmpstr (kp_region_get_tier (r), ==, expected[i].tier);
      if (flags & CHECK_LABEL)
        g_assert_cmpstr (kp_region_get_label (r), ==, expected[i].label);
      if (flags & CHECK_TRANSCRIPT)
        g_assert_cmpstr (kp_region_get_transcript (r), ==, expected[i].transcript);
      if (flags & CHECK_ATTRIBUTES)
        g_assert_cmpstr (kp_region_get_attribute (r, "emotion"), ==, expected[i].emotion);
    }
}

/* A reference file from tests/core/regions/. */
static char *
read_reference (const char *name)
{
  const char *root = g_getenv ("KP_SOURCE_ROOT");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_nonnull (root);
  path = g_build_filename (root, "tests", "core", "regions", name, NULL);
  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static KpRegions *
load (KpRegionsFormat  format,
      const char      *data)
{
  g_autoptr(KpRegions) regions = kp_regions_new (RATE);
  g_autoptr(GError) error = NULL;

  g_assert_true (kp_regions_load_data (regions, format, data, strlen (data), &error));
  g_assert_no_error (error);
  return g_steal_pointer (&regions);
}

/* export == reference; reference reads as the set; the round trip is stable. */
static void
check_format (KpRegionsFormat  format,
              const char      *reference_name,
              CheckFlags       flags)
{
  g_autofree char *reference = reference_name ? read_reference (reference_name) : NULL;
  g_autoptr(KpRegions) set = make_reference_set ();
  g_autofree char *exported = kp_regions_to_data (set, format, "meeting");
  g_autoptr(KpRegions) read = NULL;
  g_autoptr(KpRegions) again = NULL;
  g_autofree char *reexported = NULL;

  if (reference != NULL)
    {
      g_assert_cmpstr (exported, ==, reference);
      read = load (format, reference);
      assert_reference_set (read, flags);
      g_clear_object (&read);
    }
  read = load (format, exported);
  assert_reference_set (read, flags);
  reexported = kp_regions_to_data (read, format, "meeting");
  again = load (format, reexported);
  assert_reference_set (again, flags);
  if (flags == (CHECK_TIER | CHECK_LABEL | CHECK_TRANSCRIPT | CHECK_ATTRIBUTES))
    g_assert_cmpstr (reexported, ==, exported);
}

static void
count_cb (gpointer  instance,
          guint    *counter)
{
  (*counter)++;
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  guint      *counter)
{
  (*counter)++;
}

static void
test_model (void)
{
  g_autoptr(KpRegions) regions = kp_regions_new (RATE);
  g_autoptr(KpRegion) a = kp_region_new (100, 200, "A", "x");
  g_autoptr(KpRegion) b = kp_region_new (150, 300, "B", "y");
  g_autoptr(KpRegion) c = kp_region_new (50, 400, "A", "z");
  guint n_changed = 0, n_items_changed = 0;

  kp_regions_add (regions, a);
  kp_regions_add (regions, b);
  g_assert_cmpuint (kp_regions_add (regions, c), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 3);
  g_assert_true (kp_regions_get_region (regions, 0) == c);
  g_assert_true (kp_regions_get_region (regions, 1) == a);
  g_assert_true (kp_regions_get_region (regions, 2) == b);
  g_assert_cmpuint (kp_regions_get_n_tiers (regions), ==, 2);
  g_assert_cmpstr (kp_regions_get_tier (regions, 0), ==, "A");
  g_assert_cmpstr (kp_regions_get_tier (regions, 1), ==, "B");
  g_assert_cmpint (kp_regions_find_tier (regions, "C"), ==, -1);

  g_signal_connect (regions, "changed", G_CALLBACK (count_cb), &n_changed);
  g_signal_connect (regions, "items-changed", G_CALLBACK (items_changed_cb), &n_items_changed);

  /* A label edit is a change but keeps the order. */
  kp_region_set_label (a, "w");
  g_assert_cmpuint (n_changed, ==, 1);
  g_assert_cmpuint (n_items_changed, ==, 0);

  /* Moving a region keeps the list sorted and says so. */
  kp_region_set_bounds (a, 500, 600);
  g_assert_cmpuint (n_changed, ==, 2);
  g_assert_cmpuint (n_items_changed, ==, 2);
  g_assert_true (kp_regions_get_region (regions, 2) == a);
  g_assert_cmpint (kp_regions_index_of (regions, a), ==, 2);
  kp_region_set_tier (a, "C");
  g_assert_cmpint (kp_regions_find_tier (regions, "C"), ==, 2);

  /* set_start past the end drags the end along. */
  kp_region_set_start (b, 700);
  g_assert_cmpint (kp_region_get_end (b), ==, 700);
  g_assert_true (kp_regions_get_region (regions, 2) == b);

  kp_regions_remove (regions, a);
  g_assert_cmpint (kp_regions_index_of (regions, a), ==, -1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 2);
  /* A removed region's edits no longer reach the model. */
  n_changed = 0;
  kp_region_set_bounds (a, 0, 1);
  g_assert_cmpuint (n_changed, ==, 0);
  g_assert_true (kp_regions_get_region (regions, 0) == c);

  /* Rescaling keeps times. */
  kp_regions_set_sample_rate (regions, 24000);
  g_assert_cmpint (kp_region_get_start (c), ==, 25);
  g_assert_cmpint (kp_region_get_end (c), ==, 200);

  kp_regions_remove_all (regions);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 0);
  g_assert_finalize_object (g_steal_pointer (&regions));
}


static void
test_json (void)
{
  g_autofree char *json_reference = read_reference ("reference.json");
  g_autoptr(KpRegions) read = load (KP_REGIONS_FORMAT_JSON, json_reference);

  assert_reference_set (read, CHECK_TIER | CHECK_LABEL | CHECK_TRANSCRIPT | CHECK_ATTRIBUTES);
  /* Tiers without regions survive. */
  g_assert_cmpuint (kp_regions_get_n_tiers (read), ==, 3);
  g_assert_cmpstr (kp_regions_get_tier (read, 2), ==, "Carol");
  check_format (KP_REGIONS_FORMAT_JSON, NULL,
                CHECK_TIER | CHECK_LABEL | CHECK_TRANSCRIPT | CHECK_ATTRIBUTES);
}

static void
test_csv (void)
{
  check_format (KP_REGIONS_FORMAT_CSV, "reference.csv",
                CHECK_TIER | CHECK_LABEL | CHECK_TRANSCRIPT | CHECK_ATTRIBUTES);
}

static void
test_audacity (void)
{
  const char *with_spectral =
    "0.500000\t1.250000\tgreeting\n"
    "\\\t100.000000\t4000.000000\n"
    "1.000000\t2.000000\treply\n"
    "2.500000\t3.000000\tlaugh\n";
  g_autoptr(KpRegions) read = NULL;

  check_format (KP_REGIONS_FORMAT_AUDACITY, "reference.txt", CHECK_LABEL);
  /* Spectral selection lines (Audacity 2.x) are skipped. */
  read = load (KP_REGIONS_FORMAT_AUDACITY, with_spectral);
  assert_reference_set (read, CHECK_LABEL);
}



static void
test_textgrid (void)
{
  g_autoptr(KpRegions) read = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *utf16 = NULL;
  gsize utf16_len;
  KpRegion *point;
  g_autofree char *textgrid_long = read_reference ("reference.TextGrid");
  g_autofree char *textgrid_short = read_reference ("reference-short.TextGrid");

  check_format (KP_REGIONS_FORMAT_TEXTGRID, "reference.TextGrid", CHECK_TIER | CHECK_LABEL);

  /* The short format, with a point tier read as an empty region. */
  read = load (KP_REGIONS_FORMAT_TEXTGRID, textgrid_short);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (read)), ==, 4);
  point = kp_regions_get_region (read, 3);
  g_assert_cmpint (kp_region_get_start (point), ==, 132000);
  g_assert_cmpint (kp_region_get_end (point), ==, 132000);
  g_assert_cmpstr (kp_region_get_label (point), ==, "door \"slam\"");
  g_assert_cmpstr (kp_region_get_tier (point), ==, "events");
  kp_regions_remove (read, point);
  assert_reference_set (read, CHECK_TIER | CHECK_LABEL);
  g_clear_object (&read);

  /* Praat writes UTF-16 when the text needs it. */
  {
    g_autofree char *body = g_convert (textgrid_long, -1, "UTF-16LE", "UTF-8", NULL, &utf16_len,
                                       &error);
    g_assert_no_error (error);
    utf16 = g_malloc (utf16_len + 2);
    utf16[0] = (char)0xff;
    utf16[1] = (char)0xfe;
    memcpy (utf16 + 2, body, utf16_len);
  }
  read = kp_regions_new (RATE);
  g_assert_true (kp_regions_load_data (read, KP_REGIONS_FORMAT_TEXTGRID, utf16, utf16_len + 2,
                                       &error));
  g_assert_no_error (error);
  assert_reference_set (read, CHECK_TIER | CHECK_LABEL);
}

static void
test_textgrid_overlap (void)
{
  g_autoptr(KpRegions) regions = kp_regions_new (RATE);
  g_autoptr(KpRegion) a = kp_region_new (0, 48000, "A", "one");
  g_autoptr(KpRegion) b = kp_region_new (24000, 72000, "A", "two");
  g_autoptr(KpRegions) read = NULL;
  g_autofree char *data = NULL;

  kp_regions_add (regions, a);
  kp_regions_add (regions, b);
  data = kp_regions_to_data (regions, KP_REGIONS_FORMAT_TEXTGRID, NULL);
  /* Two interval tiers named "A", since one cannot overlap itself. */
  g_assert_nonnull (strstr (data, "size = 2 \n"));
  read = load (KP_REGIONS_FORMAT_TEXTGRID, data);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (read)), ==, 2);
  g_assert_cmpuint (kp_regions_get_n_tiers (read), ==, 1);
  g_assert_cmpint (kp_region_get_start (kp_regions_get_region (read, 1)), ==, 24000);
  g_assert_cmpint (kp_region_get_end (kp_regions_get_region (read, 1)), ==, 72000);
  g_assert_cmpstr (kp_region_get_tier (kp_regions_get_region (read, 1)), ==, "A");
}

static void
test_webvtt (void)
{
  g_autoptr(KpRegions) read = NULL;

  check_format (KP_REGIONS_FORMAT_WEBVTT, "reference.vtt",
                CHECK_TIER | CHECK_LABEL | CHECK_TRANSCRIPT);

  /* What other tools write: a header, notes, short times, settings, classes, CRLF. */
  read = load (KP_REGIONS_FORMAT_WEBVTT,
               "WEBVTT - made elsewhere\r\n"
               "Kind: captions\r\n"
               "\r\n"
               "NOTE this is\r\na comment\r\n"
               "\r\n"
               "STYLE\r\n::cue { color: red }\r\n"
               "\r\n"
               "00:00.500 --> 00:01.250 align:start line:0\r\n"
               "<v.loud Alice>Hello, <i>\"world\"</i></v>\r\n");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (read)), ==, 1);
  g_assert_cmpint (kp_region_get_start (kp_regions_get_region (read, 0)), ==, 24000);
  g_assert_cmpint (kp_region_get_end (kp_regions_get_region (read, 0)), ==, 60000);
  g_assert_cmpstr (kp_region_get_tier (kp_regions_get_region (read, 0)), ==, "Alice");
  g_assert_cmpstr (kp_region_get_transcript (kp_regions_get_region (read, 0)), ==,
                   "Hello, \"world\"");
}

static void
test_srt (void)
{
  g_autoptr(KpRegions) read = NULL;

  check_format (KP_REGIONS_FORMAT_SRT, "reference.srt", 0);
  read = load (KP_REGIONS_FORMAT_SRT,
               "1\r\n00:00:00,500 --> 00:00:01,250\r\nHello, \"world\"\r\nline two\r\n\r\n");
  g_assert_cmpstr (kp_region_get_transcript (kp_regions_get_region (read, 0)), ==,
                   "Hello, \"world\"\nline two");
}

static void
test_rttm (void)
{
  g_autoptr(KpRegions) read = NULL;

  check_format (KP_REGIONS_FORMAT_RTTM, "reference.rttm", CHECK_TIER);
  /* Comments and other turn types are skipped; fields may be tab- or multi-space separated. */
  read = load (KP_REGIONS_FORMAT_RTTM,
               ";; a comment\n"
               "SPKR-INFO meeting 1 <NA> <NA> <NA> unknown Alice <NA> <NA>\n"
               "SPEAKER  meeting\t1 0.5 0.75 <NA> <NA> Alice <NA> <NA>\n");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (read)), ==, 1);
  g_assert_cmpint (kp_region_get_end (kp_regions_get_region (read, 0)), ==, 60000);
}

static void
test_errors (void)
{
  static const struct {
    KpRegionsFormat format;
    const char *data;
    const char *message_part;
  } cases[] = {
    { KP_REGIONS_FORMAT_JSON, "{\"regions\": 3}", "regions" },
    { KP_REGIONS_FORMAT_JSON, "[", "JSON" },
    { KP_REGIONS_FORMAT_CSV, "begin,finish\n1,2\n", "start" },
    { KP_REGIONS_FORMAT_CSV, "start,end\n1,2\n3,x\n", "line 3" },
    { KP_REGIONS_FORMAT_CSV, "start,end,label\n1,2,\"open\n", "quoted" },
    { KP_REGIONS_FORMAT_AUDACITY, "0.5\t1.0\tok\nnonsense\n", "line 2" },
    { KP_REGIONS_FORMAT_TEXTGRID, "File type = \"ooTextFile\"\nObject class = \"Sound\"\n", "TextGrid" },
    { KP_REGIONS_FORMAT_TEXTGRID, "File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n"
      "0\n3\n<exists>\n1\n\"IntervalTier\"\n\"A\"\n0\n3\n2\n0\n1\n", "line" },
    { KP_REGIONS_FORMAT_WEBVTT, "WEBVT\n", "WEBVTT" },
    { KP_REGIONS_FORMAT_WEBVTT, "WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", "line 3" },
    { KP_REGIONS_FORMAT_SRT, "1\n00:00:01,000 --> 00:00:0x,000\nx\n", "line 2" },
    { KP_REGIONS_FORMAT_RTTM, "SPEAKER f 1 0.5\n", "fewer than 8" },
    { KP_REGIONS_FORMAT_RTTM, "SPEAKER f 1 a 1 <NA> <NA> s <NA> <NA>\n", "onset" },
    { KP_REGIONS_FORMAT_SRT, "\xff\xfe\x00", "UTF" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(KpRegions) regions = make_reference_set ();
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u", i);
      g_assert_false (kp_regions_load_data (regions, cases[i].format, cases[i].data,
                                            strlen (cases[i].data) + (i == 13 ? 1 : 0), &error));
      g_assert_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
      /* Nothing half-read is added. */
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 3);
    }
}

/* Reading many regions costs a sort, not an insertion each. */
static void
test_many (void)
{
  GString *rttm = g_string_new (NULL);
  g_autoptr(KpRegions) regions = kp_regions_new (16000);
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  gint64 t0;
  guint n = 20000;

  /* Out of order on purpose: later turns first. */
  for (guint i = 0; i < n; i++)
    g_string_append_printf (rttm, "SPEAKER big 1 %u.250 0.500 <NA> <NA> spk%u <NA> <NA>\n",
                            n - 1 - i, i % 4);
  data = g_string_free (rttm, FALSE);
  t0 = g_get_monotonic_time ();
  g_assert_true (kp_regions_load_data (regions, KP_REGIONS_FORMAT_RTTM, data, strlen (data), &error));
  g_assert_no_error (error);
  g_test_message ("%u regions read in %.3f s", n, (g_get_monotonic_time () - t0) / 1e6);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, n);
  g_assert_cmpuint (kp_regions_get_n_tiers (regions), ==, 4);
  for (guint i = 1; i < n; i += 997)
    g_assert_cmpint (kp_region_get_start (kp_regions_get_region (regions, i - 1)), <,
                     kp_region_get_start (kp_regions_get_region (regions, i)));
  g_assert_cmpint (kp_region_get_start (kp_regions_get_region (regions, 0)), ==, 4000);
}

static void
test_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kp-regions-XXXXXX", NULL);
  g_autofree char *json = g_build_filename (dir, "take 1.json", NULL);
  g_autofree char *rttm = g_build_filename (dir, "take 1.rttm", NULL);
  g_autofree char *odd = g_build_filename (dir, "take.doc", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(KpRegions) set = make_reference_set ();
  g_autoptr(KpRegions) read = kp_regions_new (RATE);
  g_autoptr(GError) error = NULL;
  KpRegionsFormat format;

  g_assert_true (kp_regions_format_from_path ("a/b.TextGrid", &format));
  g_assert_cmpint (format, ==, KP_REGIONS_FORMAT_TEXTGRID);
  g_assert_true (kp_regions_format_from_path ("x.VTT", &format));
  g_assert_cmpint (format, ==, KP_REGIONS_FORMAT_WEBVTT);

  g_assert_true (kp_regions_save_file (set, json, &error));
  g_assert_no_error (error);
  g_assert_true (kp_regions_load_file (read, json, &error));
  g_assert_no_error (error);
  assert_reference_set (read, CHECK_TIER | CHECK_LABEL | CHECK_TRANSCRIPT | CHECK_ATTRIBUTES);

  /* RTTM names the recording after the file. */
  g_assert_true (kp_regions_save_file (set, rttm, &error));
  g_assert_true (g_file_get_contents (rttm, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "SPEAKER take_1 1 0.500 "));

  g_assert_false (kp_regions_save_file (set, odd, &error));
  g_assert_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_UNKNOWN_FORMAT);
  g_clear_error (&error);
  g_assert_false (g_file_test (odd, G_FILE_TEST_EXISTS));

  /* A parse error names the file. */
  g_assert_true (g_file_set_contents (rttm, "SPEAKER x\n", -1, NULL));
  g_assert_false (kp_regions_load_file (read, rttm, &error));
  g_assert_nonnull (strstr (error->message, "take 1.rttm"));

  g_unlink (json);
  g_unlink (rttm);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/regions/model", test_model);
  g_test_add_func ("/kempelen/core/regions/json", test_json);
  g_test_add_func ("/kempelen/core/regions/csv", test_csv);
  g_test_add_func ("/kempelen/core/regions/audacity", test_audacity);
  g_test_add_func ("/kempelen/core/regions/textgrid", test_textgrid);
  g_test_add_func ("/kempelen/core/regions/textgrid-overlap", test_textgrid_overlap);
  g_test_add_func ("/kempelen/core/regions/webvtt", test_webvtt);
  g_test_add_func ("/kempelen/core/regions/srt", test_srt);
  g_test_add_func ("/kempelen/core/regions/rttm", test_rttm);
  g_test_add_func ("/kempelen/core/regions/errors", test_errors);
  g_test_add_func ("/kempelen/core/regions/many", test_many);
  g_test_add_func ("/kempelen/core/regions/files", test_files);

  return g_test_run ();
}
