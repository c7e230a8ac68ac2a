/* main.c: the kempelen workstation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "kp-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(KpApplication) app = NULL;

  kp_application_mark_process_start ();

  /* GTK calls setlocale (LC_ALL, "") itself when it initializes. */
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = kp_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
