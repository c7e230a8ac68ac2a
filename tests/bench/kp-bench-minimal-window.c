/* kp-bench-minimal-window.c: the baseline of the startup benchmark
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A minimal GTK 4 window: one label in a GtkWindow. It prints
 * "first-frame" once its first frame has been painted and exits, exactly as
 * kempelen does under KP_EXIT_AFTER_FIRST_FRAME, so both are timed alike.
 */

#include <gtk/gtk.h>
#include <stdio.h>

static gboolean done;

static void
after_paint_cb (GdkFrameClock *clock,
                gpointer       user_data)
{
  if (done)
    return;
  done = TRUE;
  printf ("first-frame\n");
  fflush (stdout);
  g_signal_handlers_disconnect_by_func (clock, after_paint_cb, user_data);
}

static void
realize_cb (GtkWidget *window,
            gpointer   user_data)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (window);

  g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), NULL);
}

int
main (int    argc,
      char **argv)
{
  GtkWidget *window;

  gtk_init ();
  window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 800);
  gtk_window_set_child (GTK_WINDOW (window), gtk_label_new ("Hello"));
  g_signal_connect (window, "realize", G_CALLBACK (realize_cb), NULL);
  gtk_window_present (GTK_WINDOW (window));

  while (!done)
    g_main_context_iteration (NULL, TRUE);

  return 0;
}
