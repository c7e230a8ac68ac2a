/* kp-select-tool.c: selects, moves and edits objects of every shape
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-select-tool.h"

#include <math.h>

#include "kp-canvas-private.h"

struct _KpSelectTool
{
  KpTool    parent_instance;

  gboolean  banding;
  gboolean  adding;             /* Shift or Ctrl: keep the selection */
  double    start_x;
  double    start_y;
  KpRect    band;
};

G_DEFINE_FINAL_TYPE (KpSelectTool, kp_select_tool, KP_TYPE_TOOL)

static void
update_band (KpSelectTool *self,
             double        x,
             double        y)
{
  self->band = kp_rect_from_points (self->start_x, self->start_y, x, y);
}

static void
kp_select_tool_press (KpTool          *tool,
                      double           x,
                      double           y,
                      GdkModifierType  state)
{
  KpSelectTool *self = (KpSelectTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);

  self->banding = FALSE;
  if (canvas == NULL || kp_tool_edit_press (tool, x, y, state))
    return;

  self->adding = (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)) != 0;
  if (!self->adding)
    kp_canvas_set_selection (canvas, NULL, 0);

  self->banding = TRUE;
  self->start_x = x;
  self->start_y = y;
  update_band (self, x, y);
}

static void
kp_select_tool_motion (KpTool          *tool,
                       double           x,
                       double           y,
                       GdkModifierType  state)
{
  KpSelectTool *self = (KpSelectTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);

  if (!self->banding)
    {
      KP_TOOL_CLASS (kp_select_tool_parent_class)->motion (tool, x, y, state);
      return;
    }

  update_band (self, x, y);
  if (canvas != NULL)
    _kp_canvas_preview_changed (canvas);
}

static void
kp_select_tool_release (KpTool          *tool,
                        double           x,
                        double           y,
                        GdkModifierType  state)
{
  KpSelectTool *self = (KpSelectTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  g_autoptr(GArray) ids = NULL;
  double scale = kp_tool_get_scale (tool);

  if (!self->banding)
    {
      KP_TOOL_CLASS (kp_select_tool_parent_class)->release (tool, x, y, state);
      return;
    }

  self->banding = FALSE;
  if (canvas == NULL)
    return;

  update_band (self, x, y);
  _kp_canvas_preview_changed (canvas);

  /* A click is not a band. */
  if (self->band.width * scale < KP_TOOL_CLICK_DISTANCE &&
      self->band.height * scale < KP_TOOL_CLICK_DISTANCE)
    return;

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (self->adding)
    {
      const gint64 *current;
      guint n = 0;

      current = kp_canvas_get_selection (canvas, &n);
      g_array_append_vals (ids, current, n);
    }
  _kp_canvas_query_rect (canvas, &self->band, TRUE, ids);

  kp_canvas_set_selection (canvas, (const gint64 *)(gpointer)ids->data, ids->len);
}

static gboolean
kp_select_tool_cancel (KpTool *tool)
{
  KpSelectTool *self = (KpSelectTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  gboolean was_banding = self->banding;

  self->banding = FALSE;
  if (was_banding && canvas != NULL)
    _kp_canvas_preview_changed (canvas);

  return KP_TOOL_CLASS (kp_select_tool_parent_class)->cancel (tool) || was_banding;
}

static void
kp_select_tool_snapshot (KpTool       *tool,
                         GtkSnapshot  *snapshot,
                         const KpView *view,
                         double        width,
                         double        height)
{
  KpSelectTool *self = (KpSelectTool *)tool;

  KP_TOOL_CLASS (kp_select_tool_parent_class)->snapshot (tool, snapshot, view, width, height);

  if (self->banding)
    {
      static const GdkRGBA fill = { 0.21, 0.52, 0.89, 0.15 };
      static const GdkRGBA edge = { 0.21, 0.52, 0.89, 1.0 };
      KpRect r = kp_view_rect_to_widget (view, &self->band);
      graphene_rect_t bounds;
      GskRoundedRect outline;

      graphene_rect_init (&bounds, round (r.x), round (r.y), round (r.width), round (r.height));
      gsk_rounded_rect_init_from_rect (&outline, &bounds, 0);
      gtk_snapshot_append_color (snapshot, &fill, &bounds);
      gtk_snapshot_append_border (snapshot, &outline,
                                  (float[4]) { 1, 1, 1, 1 },
                                  (GdkRGBA[4]) { edge, edge, edge, edge });
    }
}

static const char *
kp_select_tool_get_cursor_name (KpTool *tool,
                                double  x,
                                double  y)
{
  KpSelectTool *self = (KpSelectTool *)tool;

  if (self->banding)
    return "crosshair";

  return KP_TOOL_CLASS (kp_select_tool_parent_class)->get_cursor_name (tool, x, y);
}

static void
kp_select_tool_class_init (KpSelectToolClass *klass)
{
  KpToolClass *tool_class = KP_TOOL_CLASS (klass);

  tool_class->press = kp_select_tool_press;
  tool_class->motion = kp_select_tool_motion;
  tool_class->release = kp_select_tool_release;
  tool_class->cancel = kp_select_tool_cancel;
  tool_class->snapshot = kp_select_tool_snapshot;
  tool_class->get_cursor_name = kp_select_tool_get_cursor_name;
}

static void
kp_select_tool_init (KpSelectTool *self)
{
}

KpTool *
kp_select_tool_new (KpCanvas *canvas)
{
  return kp_tool_new_for_kind (canvas, KP_TOOL_KIND_SELECT);
}
