/* kp-tool.h: the base class of the canvas tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

typedef struct _KpCanvas KpCanvas;

#define KP_TYPE_TOOL (kp_tool_get_type ())
G_DECLARE_DERIVABLE_TYPE (KpTool, kp_tool, KP, TOOL, GObject)

/* A tool turns pointer and key input, given in IMAGE coordinates, into edits
 * of the canvas's document. It holds a weak pointer to its canvas and asks
 * it for the view, the document, the labels and the selection, so a tool is
 * driven in tests without any display. */
struct _KpToolClass
{
  GObjectClass parent_class;

  void         (*press)           (KpTool          *self,
                                   double           x,
                                   double           y,
                                   GdkModifierType  state);
  /* Also delivered while hovering (no button down): tools redraw what
   * follows the pointer (the brush outline, a polygon's next edge) and
   * otherwise ignore it. */
  void         (*motion)          (KpTool          *self,
                                   double           x,
                                   double           y,
                                   GdkModifierType  state);
  void         (*release)         (KpTool          *self,
                                   double           x,
                                   double           y,
                                   GdkModifierType  state);
  gboolean     (*key_pressed)     (KpTool          *self,
                                   guint            keyval,
                                   GdkModifierType  state);
  /* Aborts the gesture in progress; FALSE when there was none. */
  gboolean     (*cancel)          (KpTool          *self);
  const char * (*get_cursor_name) (KpTool          *self,
                                   double           x,
                                   double           y);

  /* Since the shape tools (session 4).
   *
   * get_preview_annotations: the objects the gesture in progress shows in
   * place of the document's, any shape, owned by the tool and valid until
   * its next input; an id of 0 is an object not yet in the document. The
   * canvas leaves the objects with these ids out of its cached layers for
   * as long as the preview lasts and draws these instead. NULL (and
   * *n_annotations 0) when nothing is in progress. The default shows
   * the shared editing gesture (see kp_tool_edit_press()). */
  const KpAnnotation * const *
               (*get_preview_annotations) (KpTool   *self,
                                           guint    *n_annotations);
  /* Draws the tool's own marks over the annotations, in widget coordinates
   * (view maps image to widget coordinates: widget = image * scale +
   * offset): the handles of the selection, the vertex chain being drawn,
   * the rubber band, the brush outline. Cheap: the canvas calls it on
   * every frame. The default draws the handles of the primary selection;
   * kp_tool_snapshot() adds the keyboard cursor. */
  void         (*snapshot)        (KpTool          *self,
                                   GtkSnapshot     *snapshot,
                                   const KpView    *view,
                                   double           width,
                                   double           height);
  /* The canvas's document, labels or selection changed under the tool. */
  void         (*canvas_changed)  (KpTool          *self);

  gpointer padding[6];
};

/* The tools of the workstation, one per kind. */
typedef enum
{
  KP_TOOL_KIND_SELECT = 0,      /* select (click, Shift/Ctrl+click, rubber band), move, resize, edit vertices */
  KP_TOOL_KIND_BOX,
  KP_TOOL_KIND_ROTATED_BOX,
  KP_TOOL_KIND_POLYGON,
  KP_TOOL_KIND_POLYLINE,
  KP_TOOL_KIND_LINE,
  KP_TOOL_KIND_POINT,
  KP_TOOL_KIND_BRUSH,           /* paints the selected MASK, or starts a new one */
  KP_TOOL_KIND_ERASER,          /* erases from the selected MASK */
} KpToolKind;

#define KP_N_TOOL_KINDS (KP_TOOL_KIND_ERASER + 1)

/* A new tool of that kind working on canvas. */
KpTool     *kp_tool_new_for_kind    (KpCanvas        *canvas,
                                     KpToolKind       kind);
KpToolKind  kp_tool_get_kind        (KpTool          *self);
/* "select", "box", "rotated-box", "polygon", "polyline", "line", "point",
 * "brush", "eraser": stable ids for actions, GSettings keymaps and
 * layouts; kp_tool_kind_from_id() returns FALSE for an unknown id. */
const char *kp_tool_kind_get_id     (KpToolKind       kind);
gboolean    kp_tool_kind_from_id    (const char      *id,
                                     KpToolKind      *kind);
/* Translated name for menus, tooltips and the shortcuts window. */
const char *kp_tool_kind_get_name   (KpToolKind       kind);
const char *kp_tool_kind_get_icon_name (KpToolKind    kind);
/* The shape a drawing tool makes (BRUSH and ERASER: MASK); FALSE for SELECT. */
gboolean    kp_tool_kind_get_shape  (KpToolKind       kind,
                                     KpShape         *shape);

KpCanvas   *kp_tool_get_canvas      (KpTool          *self);

void        kp_tool_press           (KpTool          *self,
                                     double           x,
                                     double           y,
                                     GdkModifierType  state);
void        kp_tool_motion          (KpTool          *self,
                                     double           x,
                                     double           y,
                                     GdkModifierType  state);
void        kp_tool_release         (KpTool          *self,
                                     double           x,
                                     double           y,
                                     GdkModifierType  state);
gboolean    kp_tool_key_pressed     (KpTool          *self,
                                     guint            keyval,
                                     GdkModifierType  state);
/* Aborts the gesture in progress and leaves keyboard drawing; FALSE when
 * neither was going on. */
gboolean    kp_tool_cancel          (KpTool          *self);
const char *kp_tool_get_cursor_name (KpTool          *self,
                                     double           x,
                                     double           y);
const KpAnnotation * const *
            kp_tool_get_preview_annotations (KpTool     *self,
                                             guint      *n_annotations);
void        kp_tool_snapshot        (KpTool          *self,
                                     GtkSnapshot     *snapshot,
                                     const KpView    *view,
                                     double           width,
                                     double           height);
void        kp_tool_canvas_changed  (KpTool          *self);

/* Keyboard-only drawing (accessibility). With a drawing tool, Return
 * starts a keyboard cursor at the centre of the view, drawn as a
 * crosshair; the arrows move it by one screen pixel (Shift: 10), Return
 * places the next point (box and rotated box: two corners; polygon and
 * polyline: vertices, finished by Shift+Return or by placing the first
 * vertex again; line: two ends; point: one) and Escape aborts and leaves.
 * kp_tool_key_pressed() handles these before the tool's own keys. */
gboolean    kp_tool_get_keyboard_cursor (KpTool      *self,
                                         double      *x,
                                         double      *y);
void        kp_tool_start_keyboard_cursor (KpTool    *self);
void        kp_tool_stop_keyboard_cursor (KpTool     *self);
/* A sentence for screen readers about keyboard drawing, e.g. "Drawing
 * cursor at 320, 240, 2 points placed" (translated), or NULL while the
 * keyboard cursor is off. Signal "status-changed" (no arguments) after
 * every keyboard-drawing key; the canvas or window may put the status in
 * an accessible description. */
char       *kp_tool_dup_status      (KpTool          *self);

/* For the tools themselves: the behaviour every tool shares, which the
 * default vfuncs implement. A click selects the topmost shape under the
 * pointer (Shift adds, Ctrl toggles); dragging a selected object moves the
 * whole selection as one undo step; the handles of the primary selection
 * resize a box, resize and rotate a rotated box and move the vertices of
 * the other shapes; dragging an edge moves its two vertices; Ctrl+click or
 * a double click on an edge inserts a vertex, Alt+click on a vertex (or
 * Delete after clicking it) removes one; arrows nudge the selection by one
 * image pixel, Shift+arrows by ten. LOCKED objects are selected but never
 * edited.
 *
 * kp_tool_edit_press() returns TRUE when the press started (or was) such
 * an edit, so a drawing tool calls it first and draws only on FALSE;
 * kp_tool_is_editing() says whether motion and release belong to the
 * shared gesture (chain up to the parent class then). */
#define KP_TOOL_HANDLE_SIZE 9.0       /* device pixels */
#define KP_TOOL_HANDLE_TOLERANCE 6.0  /* device pixels */
#define KP_TOOL_ROTATION_HANDLE_DISTANCE 24.0 /* device pixels above the top edge */
#define KP_TOOL_CLICK_DISTANCE 2.0    /* device pixels: below this a drag is a click */

gboolean    kp_tool_edit_press      (KpTool          *self,
                                     double           x,
                                     double           y,
                                     GdkModifierType  state);
gboolean    kp_tool_is_editing      (KpTool          *self);
/* The view scale of the canvas (1 without one). */
double      kp_tool_get_scale       (KpTool          *self);
/* The current label, or 0 after reporting "choose a label first"
 * through the canvas's "error" signal. */
gint64      kp_tool_require_label   (KpTool          *self);
/* Adds annotation (label, shape and geometry set) to the document as one
 * undo step and selects it; reports errors through the canvas. Returns
 * the new id or 0. */
gint64      kp_tool_add_annotation  (KpTool          *self,
                                     const KpAnnotation *annotation);
/* Whether (x, y) in image pixels was on the image; moves it onto the
 * image either way. FALSE without an image. */
gboolean    kp_tool_clamp_to_image  (KpTool          *self,
                                     double          *x,
                                     double          *y);
/* Image to widget coordinates on the canvas's device-pixel grid, where
 * the canvas draws its own edges: handles placed through this sit exactly
 * on the corners the canvas draws. */
void        kp_tool_image_to_widget (KpTool          *self,
                                     const KpView    *view,
                                     double           image_x,
                                     double           image_y,
                                     double          *widget_x,
                                     double          *widget_y);
/* Draws one square handle centred on the widget point (wx, wy), as the
 * canvas draws its own: the colour of label_id around the view
 * background, or solid when highlighted (the focused vertex, the
 * rotation handle, the vertex that closes a polygon). */
void        kp_tool_append_handle   (KpTool          *self,
                                     GtkSnapshot     *snapshot,
                                     double           wx,
                                     double           wy,
                                     gint64           label_id,
                                     gboolean         highlighted);

G_END_DECLS
