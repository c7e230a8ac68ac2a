/* kp-bench-wait.h: what the window benchmarks share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib/gstdio.h>

#include "kp-application.h"
#include "kp-window.h"

/* Iterates the main context until condition holds; a deadline of
 * timeout_s, not a measurement. */
static inline void
kp_bench_wait_for (gboolean   (*condition) (KpWindow *window),
                   KpWindow   *window,
                   int         timeout_s,
                   const char *what)
{
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_USEC_PER_SEC;

  while (!condition (window))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Removes a folder the benchmark made, and everything in it. */
static inline void
kp_bench_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        kp_bench_remove_tree (child);
      else
        g_unlink (child);
    }

  g_rmdir (path);
}

/* The real workstation window, 1280 x 800, presented, with an
 * application of its own (*app). */
static inline KpWindow *
kp_bench_window_new (KpApplication **app)
{
  g_autoptr(GError) error = NULL;
  KpWindow *window;

  *app = kp_application_new ();
  g_application_set_flags (G_APPLICATION (*app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (*app), NULL, &error);
  g_assert_no_error (error);

  window = g_object_ref_sink (kp_window_new (*app));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));

  return window;
}
