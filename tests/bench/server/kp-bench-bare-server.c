/* kp-bench-bare-server.c: the baseline of the server benchmarks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A bare SoupServer answering every request with a fixed JSON body of the
 * size of a GetHIT answer: what libsoup and the loopback cost by
 * themselves, measured by the same load generator in the same run.
 */

#include <stdio.h>

#include <libsoup/soup.h>

static char *body;
static gsize body_length;

static void
handler (SoupServer        *server,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/x-amz-json-1.1",
                                    SOUP_MEMORY_STATIC, body, body_length);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(SoupServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autoslist(GUri) uris = NULL;
  g_autofree char *uri = NULL;
  gsize size = argc > 1 ? g_ascii_strtoull (argv[1], NULL, 10) : 1500;
  GString *text = g_string_new ("{\"HIT\":{\"Padding\":\"");

  while (text->len < size - 3)
    g_string_append_c (text, 'x');
  g_string_append (text, "\"}}");
  body_length = text->len;
  body = g_string_free (text, FALSE);

  server = soup_server_new ("server-header", "kp-bench-bare-server ", NULL);
  soup_server_add_handler (server, NULL, handler, NULL, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_printerr ("kp-bench-bare-server: %s\n", error->message);
      return 1;
    }

  uris = soup_server_get_uris (server);
  uri = g_uri_to_string (uris->data);
  g_print ("kp-bench-bare-server: listening on %s\n", uri);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (loop);
  return 0;
}
