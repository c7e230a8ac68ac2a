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
  /* The shape the gesture in progress shows instead of the document's:
   * *annotation_id is 0 for a new box. FALSE when nothing is in progress. */
  gboolean     (*get_preview)     (KpTool          *self,
                                   gint64          *annotation_id,
                                   KpRect          *rect);
  const char * (*get_cursor_name) (KpTool          *self,
                                   double           x,
                                   double           y);

  gpointer padding[8];
};

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
gboolean    kp_tool_cancel          (KpTool          *self);
gboolean    kp_tool_get_preview     (KpTool          *self,
                                     gint64          *annotation_id,
                                     KpRect          *rect);
const char *kp_tool_get_cursor_name (KpTool          *self,
                                     double           x,
                                     double           y);

G_END_DECLS
