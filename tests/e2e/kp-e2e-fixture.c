/* kp-e2e-fixture.c: makes the project folder the end-to-end test works on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: kp-e2e-fixture FOLDER [N_IMAGES [SIZE]]
 *
 * Writes FOLDER/scene-NNNNN.png (the first one 800×600 solid magenta, so the
 * test can find it on screen; the others small grey squares, for the
 * open-folder benchmark) and creates the project store with two labels:
 * "car" on key 1 and "person" on key 2.
 */

#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <stdlib.h>

#include "kp-core.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) scene = NULL;
  g_autoptr(GdkPixbuf) small = NULL;
  g_autoptr(KpStore) store = NULL;
  g_autofree char *small_png = NULL;
  gsize small_len = 0;
  int n_images = 1;

  if (argc < 2 || argc > 3)
    {
      g_printerr ("usage: kp-e2e-fixture FOLDER [N_IMAGES]\n");
      return 2;
    }
  if (argc == 3)
    n_images = MAX (1, atoi (argv[2]));

  if (g_mkdir_with_parents (argv[1], 0755) != 0)
    {
      g_printerr ("kp-e2e-fixture: cannot create %s\n", argv[1]);
      return 1;
    }

  scene = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 800, 600);
  gdk_pixbuf_fill (scene, 0xff00ffff);
  small = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 48);
  gdk_pixbuf_fill (small, 0x808080ff);
  if (!gdk_pixbuf_save_to_buffer (small, &small_png, &small_len, "png", &error, NULL))
    goto fail;

  for (int i = 0; i < n_images; i++)
    {
      g_autofree char *name = g_strdup_printf ("scene-%05d.png", i);
      g_autofree char *path = g_build_filename (argv[1], name, NULL);

      if (i == 0)
        {
          if (!gdk_pixbuf_save (scene, path, "png", &error, NULL))
            goto fail;
        }
      else if (!g_file_set_contents (path, small_png, small_len, &error))
        goto fail;
    }

  store = kp_store_open (argv[1], &error);
  if (store == NULL ||
      !kp_store_scan (store, NULL, &error) ||
      kp_store_add_label (store, "car", "#e01b24", 1, &error) == 0 ||
      kp_store_add_label (store, "person", "#3584e4", 2, &error) == 0)
    goto fail;

  return EXIT_SUCCESS;

fail:
  g_printerr ("kp-e2e-fixture: %s\n", error->message);
  return EXIT_FAILURE;
}
