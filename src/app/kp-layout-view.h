/* kp-layout-view.h: a HIT layout rendered with native widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

/* Loads the image at uri (as written in the template: absolute, data: or
 * relative) for an element; NULL with error when it cannot. */
typedef GdkTexture *(*KpLayoutMediaFunc) (const char  *uri,
                                          gpointer     user_data,
                                          GError     **error);

#define KP_TYPE_LAYOUT_VIEW (kp_layout_view_get_type ())
G_DECLARE_FINAL_TYPE (KpLayoutView, kp_layout_view, KP, LAYOUT_VIEW, GtkWidget)

/* Properties: "layout" (KpLayout *).
 *
 * Signal "submitted" (JsonArray *answer): the worker pressed Submit (or a
 * crowd-button with form-action="submit") and every element's answer
 * passed its checks. The answer is kp_layout_view_get_answer()'s.
 *
 * Action "layout.submit" (Ctrl+Return): kp_layout_view_submit().
 *
 * Signal "built": the widget tree of the layout is complete. A long
 * layout is built a slice at a time: what fills the first screen (by an
 * estimate of its height) at once, the rest between frames, in document
 * order. Every function below that asks about controls, answers or
 * problems finishes the tree first.
 *
 * Signal "changed" and kp_layout_view_set_values(): see below.
 *
 * The view renders every node of the layout: crowd elements with their
 * own widgets (the image elements with KpCanvas and its tools: boxes,
 * polygons, lines, polylines, keypoints, and the brush and eraser for
 * the segmentation masks; kp-audio-segmenter and
 * kp-video-tracker with KpAudioSegmenter and KpVideoTracker), HTML with
 * labels, grids, pictures and an audio player, QuestionForm questions with the widget their
 * StyleSuggestion names, ExternalQuestion as its URL and an Open in
 * Browser button. Scripts are never run (the parser drops them). */
GtkWidget  *kp_layout_view_new              (void);

KpLayout   *kp_layout_view_get_layout       (KpLayoutView      *self);
/* Rebuilds the widget tree; layout may be NULL. */
void        kp_layout_view_set_layout       (KpLayoutView      *self,
                                             KpLayout          *layout);

/* Where relative media URIs resolve (the template's folder); NULL for
 * none. Takes effect on the next kp_layout_view_set_layout(). */
void        kp_layout_view_set_base         (KpLayoutView      *self,
                                             GFile             *base);
/* Replaces the media loader. The default one loads data: URIs and local
 * files (relative to the base), and fetches http(s) media off the main
 * thread (a placeholder shows while it loads; one that cannot be fetched
 * is an "Unreachable media" error of kp_layout_view_get_problems(), with
 * its line and column; fetched media is kept for the view's life).
 * <audio>, <video> and the kp- media elements are checked the same way.
 * A loader given here is used for everything instead. */
void        kp_layout_view_set_media_func   (KpLayoutView      *self,
                                             KpLayoutMediaFunc  func,
                                             gpointer           user_data,
                                             GDestroyNotify     destroy);
/* Since session 4. TRUE while the default loader is still fetching
 * media of the layout (placeholders show; "problems-changed" may
 * follow). A headless screenshot waits for FALSE. */
gboolean    kp_layout_view_is_loading_media (KpLayoutView      *self);
/* Since session 4. Seconds the default loader waits for an answer (15). */
void        kp_layout_view_set_media_timeout (KpLayoutView     *self,
                                              guint             seconds);
/* The query parameters an ExternalQuestion opens with. NULL keeps the
 * preview's ("ASSIGNMENT_ID_NOT_AVAILABLE" as MTurk previews, …). */
void        kp_layout_view_set_external_params (KpLayoutView   *self,
                                                const char     *assignment_id,
                                                const char     *hit_id,
                                                const char     *worker_id,
                                                const char     *turk_submit_to);
/* The ExternalQuestion's URL with those parameters, or NULL. */
char       *kp_layout_view_dup_external_uri (KpLayoutView      *self) G_GNUC_WARN_UNUSED_RESULT;

/* Problems the view found while building (media it could not load or
 * shows as a placeholder, elements drawn in a reduced way), beside
 * kp_layout_get_problems(). KpLayoutProblem *, sorted by position.
 *
 * Signal "problems-changed" (since session 4): problems were added after
 * "built" (media found unreachable later). */
GPtrArray  *kp_layout_view_get_problems     (KpLayoutView      *self);

/* The widget values of every named element, as kp_layout_form_answer()
 * takes them (name → JsonNode *, owned by the table). */
GHashTable *kp_layout_view_dup_values       (KpLayoutView      *self) G_GNUC_WARN_UNUSED_RESULT;
/* Since session 4. Puts values as kp_layout_view_dup_values() gave them
 * back into the widgets (a worker's draft): every element, drawn shapes
 * and painted masks included; names the layout does not have are ignored.
 * Does not emit "changed".
 *
 * Signal "changed" (no arguments): the worker changed a value (typed,
 * chose, drew, painted, moved, deleted); emitted at most once per main
 * loop iteration, so a draft saver can debounce on it. */
void        kp_layout_view_set_values       (KpLayoutView      *self,
                                             GHashTable        *values);
/* kp_layout_form_answer() of the widgets' state; problems (may be NULL)
 * receives what the checks found. NULL when nothing is answerable. */
JsonArray  *kp_layout_view_get_answer       (KpLayoutView      *self,
                                             GPtrArray         *problems) G_GNUC_WARN_UNUSED_RESULT;
/* Checks the answers, shows each error next to its field and moves the
 * focus to the first; TRUE when there was none. */
gboolean    kp_layout_view_validate         (KpLayoutView      *self);
/* Validates and, when it passes, emits "submitted". */
gboolean    kp_layout_view_submit           (KpLayoutView      *self);

/* The control of the element named name (its name=, or a radio group's
 * id, or a question's identifier): an entry, text view, scale, canvas,
 * check button, drop-down, …, or the box holding a group's buttons. */
GtkWidget  *kp_layout_view_get_control      (KpLayoutView      *self,
                                             const char        *name);
/* A button of that element: a category, a radio button's value, a
 * selection identifier, or a label of an image or entity element. */
GtkWidget  *kp_layout_view_get_choice       (KpLayoutView      *self,
                                             const char        *name,
                                             const char        *choice);
/* The error shown next to the element, or NULL. */
const char *kp_layout_view_get_error        (KpLayoutView      *self,
                                             const char        *name);
/* The widget holding the whole page, inside the view's scrolled
 * window (for screenshots), or NULL without a layout. */
GtkWidget  *kp_layout_view_get_page         (KpLayoutView      *self);
/* The Submit button the view added, or NULL. */
GtkWidget  *kp_layout_view_get_submit_button (KpLayoutView     *self);

G_END_DECLS
