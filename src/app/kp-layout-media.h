/* kp-layout-media.h: http(s) media of a layout, fetched off the main thread
 * and cached
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef enum
{
  KP_LAYOUT_MEDIA_LOADING,   /* being fetched: show a placeholder */
  KP_LAYOUT_MEDIA_LOADED,    /* fetched (and, for an image, decoded) */
  KP_LAYOUT_MEDIA_FAILED,    /* unreachable: HTTP status, DNS, timeout, not an image */
} KpLayoutMediaState;

#define KP_TYPE_LAYOUT_MEDIA (kp_layout_media_get_type ())
G_DECLARE_FINAL_TYPE (KpLayoutMedia, kp_layout_media, KP, LAYOUT_MEDIA, GObject)

/* Signal "finished" (const char *uri): a request left LOADING, to LOADED
 * or FAILED. Emitted on the thread default main context of the
 * KpLayoutMedia's creation.
 *
 * URLs are fetched exactly as given (presigned grant_read_access URLs
 * included): one GET each, never twice while cached. Images are decoded
 * in a worker thread; for audio and video only the response status is
 * read (the widgets stream them themselves). */
KpLayoutMedia      *kp_layout_media_new          (void);
/* Seconds before a request without an answer fails (default 15). */
void                kp_layout_media_set_timeout  (KpLayoutMedia  *self,
                                                  guint           seconds);
/* Starts fetching uri (http: or https:) unless it is cached or under way,
 * and says where it is. image TRUE decodes it into *texture (borrowed,
 * set when LOADED); FALSE only checks that it can be fetched. *error
 * (borrowed) says why when FAILED. */
KpLayoutMediaState  kp_layout_media_request      (KpLayoutMedia  *self,
                                                  const char     *uri,
                                                  gboolean        image,
                                                  GdkTexture    **texture,
                                                  const GError  **error);
/* Called with each GET before it is sent, to add credentials (the review
 * desk signs its server's media with the requester's keys). Since
 * session 5. */
typedef void (*KpLayoutMediaAuthorizeFunc) (SoupMessage *message,
                                            gpointer     user_data);

void                kp_layout_media_set_authorizer (KpLayoutMedia              *self,
                                                    KpLayoutMediaAuthorizeFunc  func,
                                                    gpointer                    user_data,
                                                    GDestroyNotify              destroy);
/* TRUE for the URLs kp_layout_media_request() fetches. */
gboolean            kp_layout_media_is_remote    (const char     *uri);

G_END_DECLS
