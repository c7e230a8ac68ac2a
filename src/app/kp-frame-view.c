/* kp-frame-view.c: one video frame and the tracks' shapes on it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-frame-view.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-view-transform.h"

#define HANDLE_SIZE 10.0
#define MIN_BOX 2.0
#define MAX_ZOOM 32.0
#define ZOOM_STEP 1.25

typedef enum
{
  DRAG_NONE,
  DRAG_MOVE,
  DRAG_RESIZE,
  DRAG_CREATE,
  DRAG_MOVE_SHAPE, /* a polygon or points track: edit_box[0..1] is the offset */
  DRAG_ADD_POINT,  /* a click that adds a point to the pending shape */
  DRAG_VERTEX,     /* one point of the selected polygon or points track: edit_box[0..1] is the offset */
} DragMode;

struct _KpFrameView
{
  GtkWidget parent_instance;

  KpVideoSource *source;
  KpTracks *tracks;
  gulong tracks_changed_id;
  gint64 frame;
  gint64 displayed_frame;
  GdkTexture *texture;
  guint selected_track;
  char *new_label;

  GCancellable *cancellable;
  gboolean decoding;

  DragMode drag_mode;
  guint drag_track;
  double drag_x;
  double drag_y;
  double drag_box[4]; /* video coordinates at drag begin */
  double edit_box[4]; /* while dragging */

  guint drag_vertex;

  KpTrackShapeType new_shape;
  GArray *pending;    /* double x, y pairs of the polygon or points being made */

  /* Zoom relative to the fitted frame (1: fitted), and the video point
   * at the widget's centre. */
  double zoom;
  double center_x;
  double center_y;
  double pan_x;
  double pan_y;
  double pointer_x;
  double pointer_y;

  GdkRGBA accent_color;
  GdkRGBA box_color;
};

G_DEFINE_FINAL_TYPE (KpFrameView, kp_frame_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_TRACKS,
  PROP_FRAME,
  PROP_DISPLAYED_FRAME,
  PROP_SELECTED_TRACK,
  PROP_NEW_LABEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void request_frame (KpFrameView *self);

/* Geometry: the frame is fitted and centred, then zoomed about the video
 * point self->center_x/y, which stays at the widget's centre unless that
 * would show past the frame's edges. */
static gboolean
video_size (KpFrameView *self,
            int         *vw,
            int         *vh)
{
  *vw = *vh = 0;
  if (self->source != NULL)
    {
      *vw = kp_video_source_get_width (self->source);
      *vh = kp_video_source_get_height (self->source);
    }
  else if (self->tracks != NULL)
    {
      *vw = kp_tracks_get_width (self->tracks);
      *vh = kp_tracks_get_height (self->tracks);
    }
  return *vw > 0 && *vh > 0;
}

static gboolean
get_view_transform (KpFrameView     *self,
                    KpViewTransform *t)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  int vw, vh;

  video_size (self, &vw, &vh);
  if (!kp_view_transform_fit (t, vw, vh, w, h))
    return FALSE;
  if (self->zoom > 1)
    {
      t->scale *= self->zoom;
      t->origin_x = w / 2 - self->center_x * t->scale;
      t->origin_y = h / 2 - self->center_y * t->scale;
      kp_view_transform_clamp (t, vw, vh, w, h);
    }
  return TRUE;
}

static gboolean
get_transform (KpFrameView *self,
               double      *scale,
               double      *ox,
               double      *oy)
{
  KpViewTransform t;
  gboolean ok = get_view_transform (self, &t);

  *scale = t.scale;
  *ox = t.origin_x;
  *oy = t.origin_y;
  return ok;
}

/* Keeps the zoom's centre where the transform t puts the widget's centre. */
static void
set_view_transform (KpFrameView           *self,
                    const KpViewTransform *t)
{
  KpViewTransform fitted;
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  int vw, vh;

  video_size (self, &vw, &vh);
  if (!kp_view_transform_fit (&fitted, vw, vh, w, h))
    return;
  self->zoom = CLAMP (t->scale / fitted.scale, 1, MAX_ZOOM);
  self->center_x = kp_view_transform_to_content_x (t, w / 2);
  self->center_y = kp_view_transform_to_content_y (t, h / 2);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_frame_view_zoom_at (KpFrameView *self,
                       double       factor,
                       double       x,
                       double       y)
{
  KpViewTransform t, fitted;
  int vw, vh;

  g_return_if_fail (KP_IS_FRAME_VIEW (self));
  g_return_if_fail (factor > 0);

  if (!get_view_transform (self, &t) || !video_size (self, &vw, &vh))
    return;
  kp_view_transform_fit (&fitted, vw, vh, gtk_widget_get_width (GTK_WIDGET (self)),
                         gtk_widget_get_height (GTK_WIDGET (self)));
  kp_view_transform_zoom_at (&t, factor, x, y, fitted.scale, fitted.scale * MAX_ZOOM);
  set_view_transform (self, &t);
}

double
kp_frame_view_get_zoom (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), 1);

  return self->zoom;
}

void
kp_frame_view_zoom_fit (KpFrameView *self)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  self->zoom = 1;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_frame_view_widget_to_video (KpFrameView *self,
                               double       wx,
                               double       wy,
                               double      *vx,
                               double      *vy)
{
  double scale, ox, oy;

  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  get_transform (self, &scale, &ox, &oy);
  *vx = (wx - ox) / scale;
  *vy = (wy - oy) / scale;
}

void
kp_frame_view_video_to_widget (KpFrameView *self,
                               double       vx,
                               double       vy,
                               double      *wx,
                               double      *wy)
{
  double scale, ox, oy;

  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  get_transform (self, &scale, &ox, &oy);
  *wx = ox + vx * scale;
  *wy = oy + vy * scale;
}

/* Frames */

static void
show_frame (KpFrameView  *self,
            KpVideoFrame *frame)
{
  g_autoptr(GdkTexture) texture = NULL;

  texture = gdk_memory_texture_new (kp_video_frame_get_width (frame),
                                    kp_video_frame_get_height (frame),
                                    GDK_MEMORY_R8G8B8A8,
                                    kp_video_frame_get_bytes (frame),
                                    kp_video_frame_get_stride (frame));
  g_set_object (&self->texture, texture);
  if (self->displayed_frame != kp_video_frame_get_number (frame))
    {
      self->displayed_frame = kp_video_frame_get_number (frame);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAYED_FRAME]);
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
got_frame_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KpFrameView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpVideoFrame) frame = NULL;

  frame = kp_video_source_get_frame_finish (KP_VIDEO_SOURCE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->decoding = FALSE;
  if (frame == NULL)
    {
      g_warning ("%s", error->message);
      return;
    }
  /* A reply for an older source is dropped. */
  if (KP_VIDEO_SOURCE (object) != self->source)
    return;
  show_frame (self, frame);
  if (self->displayed_frame != self->frame)
    request_frame (self);
}

static void
request_frame (KpFrameView *self)
{
  g_autoptr(KpVideoFrame) cached = NULL;

  if (self->source == NULL || self->frame < 0 ||
      self->frame >= kp_video_source_get_n_frames (self->source))
    return;

  cached = kp_video_source_peek_frame (self->source, self->frame);
  if (cached != NULL)
    {
      show_frame (self, cached);
      return;
    }
  /* One request at a time: when it returns, the latest frame is asked for. */
  if (self->decoding)
    return;
  self->decoding = TRUE;
  kp_video_source_get_frame_async (self->source, self->frame, self->cancellable,
                                   got_frame_cb, g_object_ref (self));
}

/* Tracks */

static void
tracks_changed_cb (KpFrameView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A point of the selected polygon or points track within a handle of
 * (vx, vy): dragging it moves that point alone. */
static KpTrack *
vertex_at (KpFrameView *self,
           double       vx,
           double       vy,
           guint       *vertex)
{
  g_autoptr(KpTrackShape) s = NULL;
  double scale, ox, oy, handle, best = G_MAXDOUBLE;
  KpTrack *track;

  if (self->tracks == NULL || self->selected_track == 0 || self->pending->len > 0)
    return NULL;
  track = kp_tracks_get_track (self->tracks, self->selected_track);
  if (track == NULL || kp_track_get_shape_type (track) == KP_TRACK_SHAPE_BOX)
    return NULL;
  s = kp_track_get_shape (track, self->frame);
  if (s == NULL || s->outside)
    return NULL;
  get_transform (self, &scale, &ox, &oy);
  handle = HANDLE_SIZE / scale;
  for (guint i = 0; i + 1 < s->n_coords; i += 2)
    {
      double d = hypot (s->coords[i] - vx, s->coords[i + 1] - vy);

      if (d <= handle && d < best)
        {
          best = d;
          *vertex = i / 2;
        }
    }
  return best < G_MAXDOUBLE ? track : NULL;
}

/* A polygon or points track whose shape (its bounds, widened by a handle)
 * holds the point. */
static KpTrack *
shape_track_at (KpFrameView *self,
                double       vx,
                double       vy)
{
  double scale, ox, oy;
  guint n;

  if (self->tracks == NULL)
    return NULL;
  get_transform (self, &scale, &ox, &oy);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->tracks));
  for (int pass = 0; pass < 2; pass++)
    for (int i = (int)n - 1; i >= 0; i--)
      {
        g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), i);
        g_autoptr(KpTrackShape) s = NULL;
        double handle = HANDLE_SIZE / scale;
        double x, y, w, h;

        if ((pass == 0) != (kp_track_get_id (track) == self->selected_track))
          continue;
        if (kp_track_get_shape_type (track) == KP_TRACK_SHAPE_BOX)
          continue;
        s = kp_track_get_shape (track, self->frame);
        if (s == NULL || s->outside || s->n_coords < 2)
          continue;
        kp_track_shape_get_bounds (s, &x, &y, &w, &h);
        if (vx >= x - handle && vx <= x + w + handle && vy >= y - handle && vy <= y + h + handle)
          return track;
      }
  return NULL;
}

static KpTrack *
box_track_at (KpFrameView *self,
              double       vx,
              double       vy,
              gboolean    *on_handle,
              double       box[4])
{
  double scale, ox, oy;
  guint n;

  if (self->tracks == NULL)
    return NULL;
  get_transform (self, &scale, &ox, &oy);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->tracks));
  /* The selected track first, then the topmost (last drawn). */
  for (int pass = 0; pass < 2; pass++)
    for (int i = (int)n - 1; i >= 0; i--)
      {
        g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), i);
        g_autoptr(KpTrackShape) s = NULL;
        double handle = HANDLE_SIZE / scale;

        if ((pass == 0) != (kp_track_get_id (track) == self->selected_track))
          continue;
        if (kp_track_get_shape_type (track) != KP_TRACK_SHAPE_BOX)
          continue;
        s = kp_track_get_shape (track, self->frame);
        if (s == NULL || s->outside)
          continue;
        *on_handle = fabs (vx - s->coords[2]) <= handle && fabs (vy - s->coords[3]) <= handle;
        if (*on_handle ||
            (vx >= s->coords[0] && vx <= s->coords[2] && vy >= s->coords[1] && vy <= s->coords[3]))
          {
            memcpy (box, s->coords, 4 * sizeof (double));
            return track;
          }
      }
  return NULL;
}

void
kp_frame_view_drag_begin (KpFrameView *self,
                          double       x,
                          double       y)
{
  double vx, vy;
  gboolean on_handle = FALSE;
  KpTrack *track;

  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  self->drag_mode = DRAG_NONE;
  if (self->tracks == NULL)
    return;
  kp_frame_view_widget_to_video (self, x, y, &vx, &vy);
  self->drag_x = x;
  self->drag_y = y;
  if ((track = vertex_at (self, vx, vy, &self->drag_vertex)) != NULL)
    {
      self->drag_mode = DRAG_VERTEX;
      self->drag_track = kp_track_get_id (track);
      memset (self->drag_box, 0, sizeof self->drag_box);
      memcpy (self->edit_box, self->drag_box, sizeof self->edit_box);
      return;
    }
  track = box_track_at (self, vx, vy, &on_handle, self->drag_box);
  if (track != NULL)
    {
      self->drag_mode = on_handle ? DRAG_RESIZE : DRAG_MOVE;
      self->drag_track = kp_track_get_id (track);
      kp_frame_view_set_selected_track (self, self->drag_track);
    }
  else if (self->pending->len == 0 && (track = shape_track_at (self, vx, vy)) != NULL)
    {
      self->drag_mode = DRAG_MOVE_SHAPE;
      self->drag_track = kp_track_get_id (track);
      memset (self->drag_box, 0, sizeof self->drag_box);
      kp_frame_view_set_selected_track (self, self->drag_track);
    }
  else if (self->new_shape != KP_TRACK_SHAPE_BOX)
    {
      self->drag_mode = DRAG_ADD_POINT;
      self->drag_track = 0;
      self->drag_box[0] = self->drag_box[2] = vx;
      self->drag_box[1] = self->drag_box[3] = vy;
    }
  else
    {
      self->drag_mode = DRAG_CREATE;
      self->drag_track = 0;
      self->drag_box[0] = self->drag_box[2] = vx;
      self->drag_box[1] = self->drag_box[3] = vy;
    }
  memcpy (self->edit_box, self->drag_box, sizeof self->edit_box);
}

void
kp_frame_view_drag_update (KpFrameView *self,
                           double       dx,
                           double       dy)
{
  double scale, ox, oy;
  double vdx, vdy;

  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  if (self->drag_mode == DRAG_NONE)
    return;
  get_transform (self, &scale, &ox, &oy);
  vdx = dx / scale;
  vdy = dy / scale;
  memcpy (self->edit_box, self->drag_box, sizeof self->edit_box);
  switch (self->drag_mode)
    {
    case DRAG_MOVE:
      self->edit_box[0] += vdx;
      self->edit_box[2] += vdx;
      self->edit_box[1] += vdy;
      self->edit_box[3] += vdy;
      break;
    case DRAG_RESIZE:
    case DRAG_CREATE:
      self->edit_box[2] += vdx;
      self->edit_box[3] += vdy;
      break;
    case DRAG_MOVE_SHAPE:
    case DRAG_VERTEX:
      self->edit_box[0] = vdx;
      self->edit_box[1] = vdy;
      break;
    case DRAG_ADD_POINT:
      break;
    case DRAG_NONE:
    default:
      break;
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_frame_view_drag_end (KpFrameView *self,
                        double       dx,
                        double       dy)
{
  g_autoptr(KpTrackShape) shape = NULL;
  g_autoptr(GError) error = NULL;
  KpTrack *track = NULL;
  DragMode mode = self->drag_mode;

  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  if (mode == DRAG_NONE)
    return;
  kp_frame_view_drag_update (self, dx, dy);
  self->drag_mode = DRAG_NONE;

  if (mode == DRAG_ADD_POINT)
    {
      g_array_append_vals (self->pending, self->drag_box, 2);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (mode == DRAG_MOVE_SHAPE || mode == DRAG_VERTEX)
    {
      track = kp_tracks_get_track (self->tracks, self->drag_track);
      if (track == NULL || (fabs (self->edit_box[0]) < 0.5 && fabs (self->edit_box[1]) < 0.5))
        {
          gtk_widget_queue_draw (GTK_WIDGET (self));
          return;
        }
      shape = kp_track_get_shape (track, self->frame);
      for (guint i = 0; shape != NULL && i + 1 < shape->n_coords; i += 2)
        if (mode == DRAG_MOVE_SHAPE || i / 2 == self->drag_vertex)
          {
            shape->coords[i] += self->edit_box[0];
            shape->coords[i + 1] += self->edit_box[1];
          }
      if (shape != NULL)
        {
          shape->keyframe = TRUE;
          if (!kp_track_set_keyframe (track, shape, &error))
            g_warning ("%s", error->message);
        }
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }

  if (fabs (self->edit_box[2] - self->edit_box[0]) < MIN_BOX ||
      fabs (self->edit_box[3] - self->edit_box[1]) < MIN_BOX)
    {
      /* A click, not a drag: it only selected. */
      if (mode == DRAG_CREATE)
        kp_frame_view_set_selected_track (self, 0);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (mode == DRAG_CREATE)
    track = kp_tracks_add_track (self->tracks, self->new_label, KP_TRACK_SHAPE_BOX);
  else
    track = kp_tracks_get_track (self->tracks, self->drag_track);
  if (track == NULL)
    return;

  shape = kp_track_shape_new (self->frame, self->edit_box, 4);
  if (!kp_track_set_keyframe (track, shape, &error))
    g_warning ("%s", error->message);
  kp_frame_view_set_selected_track (self, kp_track_get_id (track));
}

static void
drag_begin_cb (GtkGestureDrag *gesture,
               double          x,
               double          y,
               KpFrameView    *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  kp_frame_view_drag_begin (self, x, y);
}

static void
drag_update_cb (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                KpFrameView    *self)
{
  kp_frame_view_drag_update (self, dx, dy);
}

static void
drag_end_cb (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             KpFrameView    *self)
{
  kp_frame_view_drag_end (self, dx, dy);
}

/* Drawing */

static void
append_box (GtkSnapshot   *snapshot,
            double         x1,
            double         y1,
            double         x2,
            double         y2,
            double         width,
            const GdkRGBA *color)
{
  GskRoundedRect outline;
  const float widths[4] = { width, width, width, width };
  const GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&outline,
                                   &GRAPHENE_RECT_INIT (MIN (x1, x2), MIN (y1, y2),
                                                        fabs (x2 - x1), fabs (y2 - y1)),
                                   0);
  gtk_snapshot_append_border (snapshot, &outline, widths, colors);
}

static void
draw_track (KpFrameView *self,
            GtkSnapshot *snapshot,
            KpTrack     *track)
{
  g_autoptr(KpTrackShape) s = kp_track_get_shape (track, self->frame);
  gboolean selected = kp_track_get_id (track) == self->selected_track;
  const GdkRGBA *color = selected ? &self->accent_color : &self->box_color;
  double scale, ox, oy;

  if (s == NULL || s->outside)
    return;
  get_transform (self, &scale, &ox, &oy);

  if (kp_track_get_shape_type (track) == KP_TRACK_SHAPE_BOX)
    {
      double *c = s->coords;
      GdkRGBA fill = *color;

      if (selected && self->drag_mode != DRAG_NONE && self->drag_track == kp_track_get_id (track))
        c = self->edit_box;
      append_box (snapshot, ox + c[0] * scale, oy + c[1] * scale,
                  ox + c[2] * scale, oy + c[3] * scale, s->keyframe ? 2.5 : 1.5, color);
      if (selected)
        {
          fill.alpha = 1;
          gtk_snapshot_append_color (snapshot, &fill,
                                     &GRAPHENE_RECT_INIT (ox + c[2] * scale - HANDLE_SIZE / 2,
                                                          oy + c[3] * scale - HANDLE_SIZE / 2,
                                                          HANDLE_SIZE, HANDLE_SIZE));
        }
    }
  else
    {
      int w = gtk_widget_get_width (GTK_WIDGET (self));
      int h = gtk_widget_get_height (GTK_WIDGET (self));
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));

      /* s is a copy: a drag under way is drawn by moving its points. */
      if ((self->drag_mode == DRAG_MOVE_SHAPE || self->drag_mode == DRAG_VERTEX)
          && self->drag_track == kp_track_get_id (track))
        for (guint i = 0; i + 1 < s->n_coords; i += 2)
          if (self->drag_mode == DRAG_MOVE_SHAPE || i / 2 == self->drag_vertex)
            {
              s->coords[i] += self->edit_box[0];
              s->coords[i + 1] += self->edit_box[1];
            }
      gdk_cairo_set_source_rgba (cr, color);
      cairo_set_line_width (cr, s->keyframe ? 2.5 : 1.5);
      if (s->occluded)
        cairo_set_dash (cr, (const double[]) { 4, 3 }, 2, 0);
      if (kp_track_get_shape_type (track) == KP_TRACK_SHAPE_POLYGON)
        {
          for (guint i = 0; i + 1 < s->n_coords; i += 2)
            cairo_line_to (cr, ox + s->coords[i] * scale, oy + s->coords[i + 1] * scale);
          cairo_close_path (cr);
          cairo_stroke (cr);
          /* The selected polygon's points are handles. */
          for (guint i = 0; selected && i + 1 < s->n_coords; i += 2)
            cairo_rectangle (cr, ox + s->coords[i] * scale - HANDLE_SIZE / 4,
                             oy + s->coords[i + 1] * scale - HANDLE_SIZE / 4,
                             HANDLE_SIZE / 2, HANDLE_SIZE / 2);
          cairo_fill (cr);
        }
      else
        {
          for (guint i = 0; i + 1 < s->n_coords; i += 2)
            {
              cairo_new_sub_path (cr);
              cairo_arc (cr, ox + s->coords[i] * scale, oy + s->coords[i + 1] * scale, 4, 0, 2 * G_PI);
            }
          cairo_fill (cr);
        }
      cairo_destroy (cr);
    }
}

static void
kp_frame_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  KpFrameView *self = KP_FRAME_VIEW (widget);
  double scale, ox, oy;
  int vw, vh;

  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 0, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget),
                                                  gtk_widget_get_height (widget)));
  if (!get_transform (self, &scale, &ox, &oy))
    return;

  if (self->texture != NULL)
    {
      vw = gdk_texture_get_width (self->texture);
      vh = gdk_texture_get_height (self->texture);
      gtk_snapshot_append_texture (snapshot, self->texture,
                                   &GRAPHENE_RECT_INIT (ox, oy, vw * scale, vh * scale));
    }

  if (self->tracks != NULL)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->tracks));

      for (guint i = 0; i < n; i++)
        {
          g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), i);

          draw_track (self, snapshot, track);
        }
    }
  if (self->pending->len > 0)
    {
      int w = gtk_widget_get_width (widget);
      int h = gtk_widget_get_height (widget);
      cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, w, h));
      const double *p = (const double *)(gpointer)self->pending->data;

      gdk_cairo_set_source_rgba (cr, &self->accent_color);
      cairo_set_line_width (cr, 1.5);
      if (self->new_shape == KP_TRACK_SHAPE_POLYGON)
        {
          for (guint i = 0; i + 1 < self->pending->len; i += 2)
            cairo_line_to (cr, ox + p[i] * scale, oy + p[i + 1] * scale);
          cairo_stroke (cr);
        }
      for (guint i = 0; i + 1 < self->pending->len; i += 2)
        {
          cairo_new_sub_path (cr);
          cairo_arc (cr, ox + p[i] * scale, oy + p[i + 1] * scale, 3.5, 0, 2 * G_PI);
        }
      cairo_fill (cr);
      cairo_destroy (cr);
    }
  if (self->drag_mode == DRAG_CREATE)
    append_box (snapshot, ox + self->edit_box[0] * scale, oy + self->edit_box[1] * scale,
                ox + self->edit_box[2] * scale, oy + self->edit_box[3] * scale, 1.5,
                &self->accent_color);
}

static void
kp_frame_view_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  *minimum = 64;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 640 : 360;
}

static void
kp_frame_view_css_changed (GtkWidget         *widget,
                           GtkCssStyleChange *change)
{
  KpFrameView *self = KP_FRAME_VIEW (widget);

  GTK_WIDGET_CLASS (kp_frame_view_parent_class)->css_changed (widget, change);

  kp_view_lookup_color (widget, "accent_bg_color", "#3584e4", &self->accent_color);
}

static void
update_accessible (KpFrameView *self)
{
  g_autofree char *description = NULL;

  if (self->source == NULL)
    description = g_strdup (_("No video"));
  else
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, self->frame + 1);
      g_autofree char *total = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                kp_video_source_get_n_frames (self->source));

      /* Translators: the frame shown, counted from 1, and how many there are */
      description = g_strdup_printf (_("Frame %s of %s"), number, total);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

/* GObject */

static void
kp_frame_view_dispose (GObject *object)
{
  KpFrameView *self = (KpFrameView *)object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->tracks != NULL)
    g_clear_signal_handler (&self->tracks_changed_id, self->tracks);
  g_clear_object (&self->tracks);
  g_clear_object (&self->source);
  g_clear_object (&self->texture);

  G_OBJECT_CLASS (kp_frame_view_parent_class)->dispose (object);
}

static void
kp_frame_view_finalize (GObject *object)
{
  KpFrameView *self = (KpFrameView *)object;

  g_free (self->new_label);
  g_array_unref (self->pending);

  G_OBJECT_CLASS (kp_frame_view_parent_class)->finalize (object);
}

static void
kp_frame_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KpFrameView *self = KP_FRAME_VIEW (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      g_value_set_object (value, self->source);
      break;
    case PROP_TRACKS:
      g_value_set_object (value, self->tracks);
      break;
    case PROP_FRAME:
      g_value_set_int64 (value, self->frame);
      break;
    case PROP_DISPLAYED_FRAME:
      g_value_set_int64 (value, self->displayed_frame);
      break;
    case PROP_SELECTED_TRACK:
      g_value_set_uint (value, self->selected_track);
      break;
    case PROP_NEW_LABEL:
      g_value_set_string (value, self->new_label);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_frame_view_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KpFrameView *self = KP_FRAME_VIEW (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      kp_frame_view_set_source (self, g_value_get_object (value));
      break;
    case PROP_TRACKS:
      kp_frame_view_set_tracks (self, g_value_get_object (value));
      break;
    case PROP_FRAME:
      kp_frame_view_set_frame (self, g_value_get_int64 (value));
      break;
    case PROP_SELECTED_TRACK:
      kp_frame_view_set_selected_track (self, g_value_get_uint (value));
      break;
    case PROP_NEW_LABEL:
      kp_frame_view_set_new_label (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
scroll_cb (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           KpFrameView              *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  KpViewTransform t;

  /* Ctrl+wheel zooms at the pointer; the wheel scrolls a zoomed frame. */
  if (state & GDK_CONTROL_MASK)
    {
      double x = self->pointer_x, y = self->pointer_y;

      kp_frame_view_zoom_at (self, dy < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, x, y);
      return TRUE;
    }
  if (self->zoom <= 1 || !get_view_transform (self, &t))
    return FALSE;
  if (state & GDK_SHIFT_MASK)
    {
      dx = dy;
      dy = 0;
    }
  t.origin_x -= dx * 40;
  t.origin_y -= dy * 40;
  set_view_transform (self, &t);
  return TRUE;
}

static void
pointer_motion_cb (GtkEventControllerMotion *controller,
                   double                    x,
                   double                    y,
                   KpFrameView              *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

/* Middle-button drag pans a zoomed frame. */
static void
pan_begin_cb (GtkGestureDrag *gesture,
              double          x,
              double          y,
              KpFrameView    *self)
{
  self->pan_x = self->center_x;
  self->pan_y = self->center_y;
}

static void
pan_update_cb (GtkGestureDrag *gesture,
               double          dx,
               double          dy,
               KpFrameView    *self)
{
  KpViewTransform t;

  if (self->zoom <= 1 || !get_view_transform (self, &t))
    return;
  self->center_x = self->pan_x - dx / t.scale;
  self->center_y = self->pan_y - dy / t.scale;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
zoom_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  KpFrameView *self = KP_FRAME_VIEW (widget);
  double x = gtk_widget_get_width (widget) / 2.0;
  double y = gtk_widget_get_height (widget) / 2.0;

  if (g_str_equal (name, "frame.zoom-in"))
    kp_frame_view_zoom_at (self, ZOOM_STEP, x, y);
  else if (g_str_equal (name, "frame.zoom-out"))
    kp_frame_view_zoom_at (self, 1 / ZOOM_STEP, x, y);
  else
    kp_frame_view_zoom_fit (self);
}

static void
finish_shape_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  if (!kp_frame_view_finish_shape (KP_FRAME_VIEW (widget)))
    gtk_widget_error_bell (widget);
}

static void
cancel_shape_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  KpFrameView *self = KP_FRAME_VIEW (widget);

  if (self->pending->len > 0)
    {
      g_array_set_size (self->pending, 0);
      gtk_widget_queue_draw (widget);
    }
  else
    kp_frame_view_set_selected_track (self, 0);
}

static void
kp_frame_view_class_init (KpFrameViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_frame_view_dispose;
  object_class->finalize = kp_frame_view_finalize;
  object_class->get_property = kp_frame_view_get_property;
  object_class->set_property = kp_frame_view_set_property;
  widget_class->snapshot = kp_frame_view_snapshot;
  widget_class->measure = kp_frame_view_measure;
  widget_class->css_changed = kp_frame_view_css_changed;

  properties[PROP_SOURCE] =
    g_param_spec_object ("source", NULL, NULL, KP_TYPE_VIDEO_SOURCE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRACKS] =
    g_param_spec_object ("tracks", NULL, NULL, KP_TYPE_TRACKS,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRAME] =
    g_param_spec_int64 ("frame", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAYED_FRAME] =
    g_param_spec_int64 ("displayed-frame", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_TRACK] =
    g_param_spec_uint ("selected-track", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NEW_LABEL] =
    g_param_spec_string ("new-label", NULL, NULL, "object",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "frame.finish-shape", NULL, finish_shape_action);
  gtk_widget_class_install_action (widget_class, "frame.cancel-shape", NULL, cancel_shape_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "frame.finish-shape", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "frame.finish-shape", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "frame.cancel-shape", NULL);
  gtk_widget_class_install_action (widget_class, "frame.zoom-in", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "frame.zoom-out", NULL, zoom_action);
  gtk_widget_class_install_action (widget_class, "frame.zoom-fit", NULL, zoom_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "frame.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "frame.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "frame.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "frame.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "frame.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "frame.zoom-fit", NULL);

  gtk_widget_class_set_css_name (widget_class, "kp-frame-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kp_frame_view_init (KpFrameView *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkGesture *pan;
  GtkEventController *scroll, *motion;

  self->displayed_frame = -1;
  self->new_label = g_strdup ("object");
  self->new_shape = KP_TRACK_SHAPE_BOX;
  self->zoom = 1;
  self->pending = g_array_new (FALSE, FALSE, sizeof (double));
  self->cancellable = g_cancellable_new ();
  gdk_rgba_parse (&self->accent_color, "#3584e4");
  gdk_rgba_parse (&self->box_color, "#f6d32d");

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  pan = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (pan), GDK_BUTTON_MIDDLE);
  g_signal_connect (pan, "drag-begin", G_CALLBACK (pan_begin_cb), self);
  g_signal_connect (pan, "drag-update", G_CALLBACK (pan_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (pan));
  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);
  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (pointer_motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Video frame"),
                                  -1);
  update_accessible (self);
}

GtkWidget *
kp_frame_view_new (void)
{
  return g_object_new (KP_TYPE_FRAME_VIEW, NULL);
}

KpVideoSource *
kp_frame_view_get_source (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), NULL);

  return self->source;
}

void
kp_frame_view_set_source (KpFrameView   *self,
                          KpVideoSource *source)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));
  g_return_if_fail (source == NULL || KP_IS_VIDEO_SOURCE (source));

  if (!g_set_object (&self->source, source))
    return;
  /* Replies for the old source are cancelled. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  self->decoding = FALSE;
  g_clear_object (&self->texture);
  self->displayed_frame = -1;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAYED_FRAME]);
  request_frame (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

KpTracks *
kp_frame_view_get_tracks (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), NULL);

  return self->tracks;
}

void
kp_frame_view_set_tracks (KpFrameView *self,
                          KpTracks    *tracks)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));
  g_return_if_fail (tracks == NULL || KP_IS_TRACKS (tracks));

  if (self->tracks == tracks)
    return;
  if (self->tracks != NULL)
    g_clear_signal_handler (&self->tracks_changed_id, self->tracks);
  g_set_object (&self->tracks, tracks);
  if (tracks != NULL)
    self->tracks_changed_id = g_signal_connect_swapped (tracks, "changed",
                                                        G_CALLBACK (tracks_changed_cb), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACKS]);
}

gint64
kp_frame_view_get_frame (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), 0);

  return self->frame;
}

void
kp_frame_view_set_frame (KpFrameView *self,
                         gint64       frame)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  if (self->source != NULL)
    frame = CLAMP (frame, 0, MAX (0, kp_video_source_get_n_frames (self->source) - 1));
  frame = MAX (frame, 0);
  if (frame == self->frame)
    return;
  self->frame = frame;
  request_frame (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

gint64
kp_frame_view_get_displayed_frame (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), -1);

  return self->displayed_frame;
}

GdkTexture *
kp_frame_view_get_texture (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), NULL);

  return self->texture;
}

guint
kp_frame_view_get_selected_track (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), 0);

  return self->selected_track;
}

void
kp_frame_view_set_selected_track (KpFrameView *self,
                                  guint        id)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  if (id == self->selected_track)
    return;
  self->selected_track = id;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_TRACK]);
}

const char *
kp_frame_view_get_new_label (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), NULL);

  return self->new_label;
}

void
kp_frame_view_set_new_label (KpFrameView *self,
                             const char  *label)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));

  if (label == NULL)
    label = "object";
  if (g_strcmp0 (label, self->new_label) == 0)
    return;
  g_free (self->new_label);
  self->new_label = g_strdup (label);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEW_LABEL]);
}

KpTrackShapeType
kp_frame_view_get_new_shape (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), KP_TRACK_SHAPE_BOX);

  return self->new_shape;
}

void
kp_frame_view_set_new_shape (KpFrameView      *self,
                             KpTrackShapeType  shape)
{
  g_return_if_fail (KP_IS_FRAME_VIEW (self));
  g_return_if_fail (shape <= KP_TRACK_SHAPE_POINTS);

  if (shape == self->new_shape)
    return;
  self->new_shape = shape;
  g_array_set_size (self->pending, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
kp_frame_view_get_n_pending_points (KpFrameView *self)
{
  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), 0);

  return self->pending->len / 2;
}

gboolean
kp_frame_view_finish_shape (KpFrameView *self)
{
  g_autoptr(KpTrackShape) shape = NULL;
  g_autoptr(GError) error = NULL;
  guint needed;
  KpTrack *track;

  g_return_val_if_fail (KP_IS_FRAME_VIEW (self), FALSE);

  needed = self->new_shape == KP_TRACK_SHAPE_POLYGON ? 3 : 1;
  if (self->tracks == NULL || self->new_shape == KP_TRACK_SHAPE_BOX || self->pending->len / 2 < needed)
    return FALSE;
  track = kp_tracks_add_track (self->tracks, self->new_label, self->new_shape);
  shape = kp_track_shape_new (self->frame, (const double *)(gpointer)self->pending->data, self->pending->len);
  g_array_set_size (self->pending, 0);
  if (!kp_track_set_keyframe (track, shape, &error))
    g_warning ("%s", error->message);
  kp_frame_view_set_selected_track (self, kp_track_get_id (track));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}
