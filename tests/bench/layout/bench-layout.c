/* bench-layout.c: parse, build and check a 200 KB HIT layout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints `BENCH layout_200k_parse_ms <median> ms`: the median over 25 runs
 * of kp_layout_new_from_data() (HTML parse, tree, attribute parsing and
 * every problem check) on a template generated here, mixing prose,
 * tables, lists, media and crowd elements as a long instructions page
 * does. KP_BENCH_VERBOSE=1 adds the fastest and slowest run.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kp-core.h"

#define TARGET_SIZE (200 * 1024)
#define RUNS 25

static char *
generate_template (void)
{
  GString *html = g_string_new ("<!DOCTYPE html>\n<script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script>\n"
                                "<crowd-form>\n<crowd-instructions link-text=\"Instructions\">\n");
  guint i = 0;

  while (html->len < TARGET_SIZE)
    {
      g_string_append_printf (html,
        "<h2>Section %u</h2>\n"
        "<p>Look at <strong>image %u</strong> and <em>mark</em> every object; see "
        "<a href=\"https://example.com/help/%u\">the guide</a> for details &amp; examples.</p>\n"
        "<ul><li>Cars and trucks</li><li>People on foot</li><li>Bicycles</li></ul>\n"
        "<table><tr><th>Label</th><th>When</th></tr><tr><td>Car</td><td>Any motor vehicle</td></tr></table>\n"
        "<img src=\"https://example.com/examples/%u.jpg\" alt=\"Example %u\">\n",
        i, i, i, i, i);

      if (i % 4 == 0)
        g_string_append_printf (html,
          "<crowd-classifier name=\"q%u\" header=\"Is there a car?\" categories=\"['Yes', 'No', 'Unsure']\">\n"
          "  <classification-target><p>Scene %u</p></classification-target>\n"
          "</crowd-classifier>\n", i, i);
      else if (i % 4 == 1)
        g_string_append_printf (html,
          "<crowd-bounding-box name=\"b%u\" src=\"https://example.com/img/%u.jpg\" header=\"Box them\"\n"
          "    labels=\"['Car', 'Person', 'Bicycle']\"\n"
          "    initial-value=\"[{label: 'Car', left: 1, top: 2, width: 30, height: 40}]\"></crowd-bounding-box>\n",
          i, i);
      else if (i % 4 == 2)
        g_string_append_printf (html,
          "<crowd-input name=\"t%u\" label=\"Describe\" max-length=\"200\" required></crowd-input>\n"
          "<crowd-slider name=\"s%u\" min=\"0\" max=\"10\" step=\"1\"></crowd-slider>\n", i, i);
      else
        g_string_append_printf (html,
          "<crowd-radio-group><crowd-radio-button name=\"y%u\">Yes</crowd-radio-button>"
          "<crowd-radio-button name=\"n%u\">No</crowd-radio-button></crowd-radio-group>\n", i, i);

      if (i == 0)
        g_string_append (html, "</crowd-instructions>\n");
      i++;
    }

  g_string_append (html, "</crowd-form>\n");
  return g_string_free (html, FALSE);
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double da = *(const double *)a;
  double db = *(const double *)b;

  return da < db ? -1 : da > db;
}

int
main (void)
{
  g_autofree char *template = generate_template ();
  gsize length = strlen (template);
  double times[RUNS];
  guint n_problems = 0;

  /* One warm-up run, which also checks the template is sound. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(KpLayout) layout = kp_layout_new_from_data (template, length, KP_LAYOUT_FORMAT_AUTO, &error);

    g_assert_no_error (error);
    n_problems = kp_layout_get_problems (layout)->len;
    g_assert_false (kp_layout_problems_has_errors (kp_layout_get_problems (layout)));
  }

  for (guint i = 0; i < RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KpLayout) layout = NULL;
      gint64 start = g_get_monotonic_time ();

      layout = kp_layout_new_from_data (template, length, KP_LAYOUT_FORMAT_AUTO, &error);
      times[i] = (g_get_monotonic_time () - start) / 1000.0;
      g_assert_no_error (error);
      g_assert_nonnull (kp_layout_get_form (layout));
    }

  qsort (times, RUNS, sizeof times[0], compare_doubles);

  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    g_print ("# %" G_GSIZE_FORMAT " bytes, %u problems (warnings); fastest %.2f ms, slowest %.2f ms\n",
             length, n_problems, times[0], times[RUNS - 1]);

  g_print ("BENCH layout_200k_parse_ms %.2f ms\n", times[RUNS / 2]);
  return EXIT_SUCCESS;
}
