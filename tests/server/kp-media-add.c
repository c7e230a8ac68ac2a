/* kp-media-add.c: puts a file into a data directory's media store, for
 * the worker-API tests (kpserver.add_media)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: kp-media-add DATA_DIR FILE [CONTENT_TYPE]
 * Prints the media's SHA-256 on stdout. Goes through
 * kp_worker_api_store_media_file(), as an administration tool would, and
 * works while a server runs on the same directory.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "kp-admin.h"
#include "kp-worker-api.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpDb) db = NULL;
  g_autofree char *hash = NULL;
  KpCtx ctx = { 0, };

  if (argc != 3 && argc != 4)
    {
      fprintf (stderr, "usage: kp-media-add DATA_DIR FILE [CONTENT_TYPE]\n");
      return 2;
    }

  db = kp_admin_open (argv[1], &error);
  if (db == NULL)
    {
      fprintf (stderr, "kp-media-add: %s\n", error->message);
      return EXIT_FAILURE;
    }

  ctx.db = db;
  ctx.data_dir = argv[1];
  ctx.now = g_get_real_time () / G_USEC_PER_SEC;

  if (!kp_worker_api_store_media_file (&ctx, argv[2], argc == 4 ? argv[3] : NULL, &hash, &error))
    {
      fprintf (stderr, "kp-media-add: %s\n", error->message);
      return EXIT_FAILURE;
    }

  printf ("%s\n", hash);
  return EXIT_SUCCESS;
}
