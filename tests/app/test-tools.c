/* test-tools.c: every image tool, driven in image coordinates
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The canvas shows a 640×480 image at 100 % in an 800×600 widget, so image
 * point (x, y) is widget point (x + 80, y + 60), and one image pixel is one
 * device pixel.
 */

#include "config.h"

#include <math.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "kp-box-tool.h"
#include "kp-brush-tool.h"
#include "kp-canvas.h"
#include "kp-canvas-private.h"
#include "kp-core.h"
#include "kp-point-tool.h"
#include "kp-polygon-tool.h"
#include "kp-rotated-box-tool.h"
#include "kp-select-tool.h"
#include "kp-test-render.h"

#define IMAGE_WIDTH 640
#define IMAGE_HEIGHT 480
#define CANVAS_WIDTH 800
#define CANVAS_HEIGHT 600
#define OFFSET_X 80
#define OFFSET_Y 60
#define CAR "#e01b24"
#define PERSON "#2ec27e"

typedef struct
{
  char       *folder;
  KpStore    *store;
  KpDocument *document;
  GtkWidget  *window;
  KpCanvas   *canvas;
  GdkTexture *texture;
  gint64      media_id;
  gint64      car_id;
  gint64      person_id;
  guint       n_errors;
} Fixture;

static void
error_cb (KpCanvas     *canvas,
          const GError *error,
          Fixture      *fixture)
{
  g_assert_nonnull (error);
  fixture->n_errors++;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *image_path = NULL;
  gint64 deadline;

  fixture->folder = g_dir_make_tmp ("kp-test-tools-XXXXXX", &error);
  g_assert_no_error (error);

  /* A mid-grey image: neither white handles nor dark outlines hide in it. */
  image_path = g_build_filename (fixture->folder, "scene.png", NULL);
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, IMAGE_WIDTH, IMAGE_HEIGHT);
  gdk_pixbuf_fill (pixbuf, 0x808080ff);
  gdk_pixbuf_save (pixbuf, image_path, "png", &error, NULL);
  g_assert_no_error (error);

  fixture->store = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  kp_store_scan (fixture->store, NULL, &error);
  g_assert_no_error (error);
  media = kp_store_list_media (fixture->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->len, ==, 1);
  fixture->media_id = ((KpMedia *)g_ptr_array_index (media, 0))->id;

  fixture->car_id = kp_store_add_label (fixture->store, "car", "#e01b24", 1, &error);
  g_assert_no_error (error);
  fixture->person_id = kp_store_add_label (fixture->store, "person", "#2ec27e", 2, &error);
  g_assert_no_error (error);
  labels = kp_store_list_labels (fixture->store, &error);
  g_assert_no_error (error);

  fixture->document = kp_document_new (fixture->store, fixture->media_id, &error);
  g_assert_no_error (error);
  fixture->texture = gdk_texture_new_for_pixbuf (pixbuf);

  fixture->window = gtk_window_new ();
  fixture->canvas = KP_CANVAS (kp_canvas_new ());
  g_object_ref (fixture->canvas);
  gtk_widget_set_size_request (GTK_WIDGET (fixture->canvas), CANVAS_WIDTH, CANVAS_HEIGHT);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->canvas));
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), CANVAS_WIDTH, CANVAS_HEIGHT);
  gtk_window_set_resizable (GTK_WINDOW (fixture->window), FALSE);
  g_signal_connect (fixture->canvas, "error", G_CALLBACK (error_cb), fixture);

  kp_canvas_set_labels (fixture->canvas, labels);
  kp_canvas_set_texture (fixture->canvas, fixture->texture);
  kp_canvas_set_document (fixture->canvas, fixture->document);
  kp_canvas_set_current_label_id (fixture->canvas, fixture->car_id);

  gtk_window_present (GTK_WINDOW (fixture->window));
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while ((gtk_widget_get_width (GTK_WIDGET (fixture->canvas)) != CANVAS_WIDTH ||
          gtk_widget_get_height (GTK_WIDGET (fixture->canvas)) != CANVAS_HEIGHT) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpfloat (kp_canvas_get_zoom (fixture->canvas), ==, 1.0);
  g_assert_cmpfloat (kp_canvas_get_view (fixture->canvas)->offset_x, ==, OFFSET_X);
  g_assert_cmpfloat (kp_canvas_get_view (fixture->canvas)->offset_y, ==, OFFSET_Y);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_assert_finalize_object (fixture->canvas);
  g_assert_finalize_object (fixture->document);
  g_assert_finalize_object (fixture->texture);
  g_assert_finalize_object (fixture->store);
  remove_tree (fixture->folder);
  g_free (fixture->folder);
}

/* Helpers */

static KpTool *
use_tool (Fixture    *fixture,
          KpToolKind  kind)
{
  g_autoptr(KpTool) tool = kp_tool_new_for_kind (fixture->canvas, kind);

  g_assert_cmpint (kp_tool_get_kind (tool), ==, kind);
  kp_canvas_set_tool (fixture->canvas, tool);
  g_assert_true (kp_canvas_get_tool (fixture->canvas) == tool);

  return tool;
}

static void
press (Fixture         *fixture,
       double           x,
       double           y,
       GdkModifierType  state)
{
  kp_canvas_tool_press (fixture->canvas, x, y, state);
}

static void
click (Fixture         *fixture,
       double           x,
       double           y,
       GdkModifierType  state)
{
  kp_canvas_tool_press (fixture->canvas, x, y, state);
  kp_canvas_tool_release (fixture->canvas, x, y, state);
}

/* A drag in a few steps, as a pointer delivers it. */
static void
drag (Fixture         *fixture,
      double           x0,
      double           y0,
      double           x1,
      double           y1,
      GdkModifierType  state)
{
  kp_canvas_tool_press (fixture->canvas, x0, y0, state);
  for (int i = 1; i <= 4; i++)
    kp_canvas_tool_motion (fixture->canvas, x0 + (x1 - x0) * i / 4, y0 + (y1 - y0) * i / 4, state);
  kp_canvas_tool_release (fixture->canvas, x1, y1, state);
}

static gboolean
key (Fixture         *fixture,
     guint            keyval,
     GdkModifierType  state)
{
  return kp_tool_key_pressed (kp_canvas_get_tool (fixture->canvas), keyval, state);
}

static void
keys (Fixture         *fixture,
      guint            keyval,
      GdkModifierType  state,
      guint            times)
{
  for (guint i = 0; i < times; i++)
    g_assert_true (key (fixture, keyval, state));
}

static guint
count (Fixture *fixture)
{
  return kp_document_get_annotations (fixture->document)->len;
}

static const KpAnnotation *
lookup (Fixture *fixture,
        gint64   id)
{
  const KpAnnotation *annotation = kp_document_lookup (fixture->document, id);

  g_assert_nonnull (annotation);
  return annotation;
}

static const KpAnnotation *
last_annotation (Fixture *fixture)
{
  GPtrArray *annotations = kp_document_get_annotations (fixture->document);

  g_assert_cmpuint (annotations->len, >, 0);
  return g_ptr_array_index (annotations, annotations->len - 1);
}

static void
undo (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
}

static gint64
add_shape (Fixture       *fixture,
           KpShape        shape,
           const KpPoint *points,
           guint          n_points)
{
  g_autoptr(GError) error = NULL;
  g_auto(KpAnnotation) annotation = { 0 };
  gint64 id;

  annotation.shape = shape;
  annotation.label_id = fixture->car_id;
  kp_annotation_set_points (&annotation, points, n_points);
  id = kp_document_add_annotation (fixture->document, &annotation, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

static gint64
add_box (Fixture *fixture,
         double   x,
         double   y,
         double   width,
         double   height)
{
  g_autoptr(GError) error = NULL;
  KpRect rect = { x, y, width, height };
  gint64 id = kp_document_add (fixture->document, fixture->car_id, &rect, &error);

  g_assert_no_error (error);
  return id;
}

static gint64
add_square (Fixture *fixture)
{
  static const KpPoint square[] = { { 100, 100 }, { 200, 100 }, { 200, 200 }, { 100, 200 } };

  return add_shape (fixture, KP_SHAPE_POLYGON, square, G_N_ELEMENTS (square));
}

static void
select_ids (Fixture      *fixture,
            const gint64 *ids,
            guint         n_ids)
{
  guint n = 0;

  kp_canvas_set_selection (fixture->canvas, ids, n_ids);
  kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, n_ids);
}

static void
assert_point (const KpPoint *point,
              double         x,
              double         y)
{
  g_assert_cmpfloat_with_epsilon (point->x, x, 1e-9);
  g_assert_cmpfloat_with_epsilon (point->y, y, 1e-9);
}

static void
assert_rect (const KpRect *rect,
             double        x,
             double        y,
             double        width,
             double        height)
{
  g_assert_cmpfloat (rect->x, ==, x);
  g_assert_cmpfloat (rect->y, ==, y);
  g_assert_cmpfloat (rect->width, ==, width);
  g_assert_cmpfloat (rect->height, ==, height);
}

static void
assert_selection (Fixture      *fixture,
                  const gint64 *expected,
                  guint         n_expected)
{
  const gint64 *ids;
  guint n = 0;

  ids = kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, n_expected);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (ids[i], ==, expected[i]);
}

/* Tests */

static void
test_kinds (Fixture       *fixture,
            gconstpointer  data)
{
  GType expected[KP_N_TOOL_KINDS];

  expected[KP_TOOL_KIND_SELECT] = KP_TYPE_SELECT_TOOL;
  expected[KP_TOOL_KIND_BOX] = KP_TYPE_BOX_TOOL;
  expected[KP_TOOL_KIND_ROTATED_BOX] = KP_TYPE_ROTATED_BOX_TOOL;
  expected[KP_TOOL_KIND_POLYGON] = KP_TYPE_POLYGON_TOOL;
  expected[KP_TOOL_KIND_POLYLINE] = KP_TYPE_POLYGON_TOOL;
  expected[KP_TOOL_KIND_LINE] = KP_TYPE_POLYGON_TOOL;
  expected[KP_TOOL_KIND_POINT] = KP_TYPE_POINT_TOOL;
  expected[KP_TOOL_KIND_BRUSH] = KP_TYPE_BRUSH_TOOL;
  expected[KP_TOOL_KIND_ERASER] = KP_TYPE_BRUSH_TOOL;

  for (guint i = 0; i < KP_N_TOOL_KINDS; i++)
    {
      g_autoptr(KpTool) tool = kp_tool_new_for_kind (fixture->canvas, i);
      KpToolKind kind = KP_N_TOOL_KINDS;
      KpShape shape;

      g_assert_true (G_TYPE_CHECK_INSTANCE_TYPE (tool, expected[i]));
      g_assert_cmpint (kp_tool_get_kind (tool), ==, i);
      g_assert_true (kp_tool_kind_from_id (kp_tool_kind_get_id (i), &kind));
      g_assert_cmpint (kind, ==, i);
      g_assert_cmpstr (kp_tool_kind_get_name (i), !=, "");
      g_assert_nonnull (kp_tool_kind_get_icon_name (i));
      g_assert_cmpint (kp_tool_kind_get_shape (i, &shape), ==, i != KP_TOOL_KIND_SELECT);
    }

  g_assert_cmpstr (kp_tool_kind_get_id (KP_TOOL_KIND_ROTATED_BOX), ==, "rotated-box");
  g_assert_false (kp_tool_kind_from_id ("lasso", &(KpToolKind) { 0 }));
  g_assert_false (kp_tool_kind_from_id (NULL, &(KpToolKind) { 0 }));
}

static void
test_box (Fixture       *fixture,
          gconstpointer  data)
{
  g_auto(KpAnnotation) before = { 0 };
  const KpAnnotation *box;
  gint64 id;

  use_tool (fixture, KP_TOOL_KIND_BOX);

  /* Drawing snaps to whole pixels and selects the new box. */
  drag (fixture, 100.4, 99.6, 200.2, 150, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  box = last_annotation (fixture);
  id = box->id;
  g_assert_cmpint (box->shape, ==, KP_SHAPE_BOX);
  g_assert_cmpint (box->label_id, ==, fixture->car_id);
  assert_rect (&box->rect, 100, 100, 100, 50);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);

  /* While drawing, the preview is the box as it would be. */
  press (fixture, 300, 300, 0);
  kp_canvas_tool_motion (fixture->canvas, 340, 320, 0);
  {
    guint n = 0;
    const KpAnnotation * const *previews =
      kp_tool_get_preview_annotations (kp_canvas_get_tool (fixture->canvas), &n);

    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpint (previews[0]->id, ==, 0);
    assert_rect (&previews[0]->rect, 300, 300, 40, 20);
  }
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));
  kp_canvas_tool_release (fixture->canvas, 340, 320, 0);
  g_assert_cmpuint (count (fixture), ==, 1);

  /* The bottom-right handle resizes; undo restores it exactly. */
  select_ids (fixture, &id, 1);
  kp_annotation_copy_to (lookup (fixture, id), &before);
  drag (fixture, 200, 150, 220, 170, 0);
  assert_rect (&lookup (fixture, id)->rect, 100, 100, 120, 70);
  /* The top edge. */
  drag (fixture, 150, 100, 150, 90, 0);
  assert_rect (&lookup (fixture, id)->rect, 100, 90, 120, 80);
  undo (fixture);
  undo (fixture);
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));

  /* Dragging from inside moves it. */
  drag (fixture, 150, 120, 160, 125, 0);
  assert_rect (&lookup (fixture, id)->rect, 110, 105, 100, 50);

  /* No label: refused through "error", nothing added. */
  kp_canvas_set_current_label_id (fixture->canvas, 0);
  drag (fixture, 400, 300, 450, 350, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  g_assert_cmpuint (fixture->n_errors, ==, 1);
}

static void
test_rotated_box (Fixture       *fixture,
                  gconstpointer  data)
{
  g_auto(KpAnnotation) before = { 0 };
  const KpAnnotation *box;
  gint64 id;

  use_tool (fixture, KP_TOOL_KIND_ROTATED_BOX);
  g_assert_true (KP_IS_ROTATED_BOX_TOOL (kp_canvas_get_tool (fixture->canvas)));

  drag (fixture, 100, 100, 200, 160, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  box = last_annotation (fixture);
  id = box->id;
  g_assert_cmpint (box->shape, ==, KP_SHAPE_ROTATED_BOX);
  g_assert_cmpfloat (box->rotated.cx, ==, 150);
  g_assert_cmpfloat (box->rotated.cy, ==, 130);
  g_assert_cmpfloat (box->rotated.width, ==, 100);
  g_assert_cmpfloat (box->rotated.height, ==, 60);
  g_assert_cmpfloat (box->rotated.angle, ==, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);
  kp_annotation_copy_to (box, &before);

  /* The rotation handle sits 24 px above the top edge. Turning it to the
   * right of the centre is a quarter turn; Shift snaps 84° to 90°. */
  press (fixture, 150, 130 - 30 - KP_TOOL_ROTATION_HANDLE_DISTANCE, 0);
  kp_canvas_tool_motion (fixture->canvas, 200, 80, GDK_SHIFT_MASK);
  kp_canvas_tool_motion (fixture->canvas, 250, 120, GDK_SHIFT_MASK);
  kp_canvas_tool_release (fixture->canvas, 250, 120, GDK_SHIFT_MASK);
  box = lookup (fixture, id);
  g_assert_cmpfloat_with_epsilon (box->rotated.angle, G_PI / 2, 1e-9);
  g_assert_cmpfloat (box->rotated.cx, ==, 150);
  g_assert_cmpfloat (box->rotated.width, ==, 100);

  /* Without Shift it follows the pointer exactly. */
  drag (fixture, 150 + 30 + KP_TOOL_ROTATION_HANDLE_DISTANCE, 130, 150 + 50, 130 + 50, 0);
  g_assert_cmpfloat_with_epsilon (lookup (fixture, id)->rotated.angle, 3 * G_PI / 4, 1e-9);
  undo (fixture);
  g_assert_cmpfloat_with_epsilon (lookup (fixture, id)->rotated.angle, G_PI / 2, 1e-9);

  /* The right-hand handle, now at the bottom, stretches the box along
   * its own x axis: 20 px longer, the centre 10 px down. */
  drag (fixture, 150, 180, 150, 200, 0);
  box = lookup (fixture, id);
  g_assert_cmpfloat_with_epsilon (box->rotated.width, 120, 1e-9);
  g_assert_cmpfloat_with_epsilon (box->rotated.height, 60, 1e-9);
  g_assert_cmpfloat_with_epsilon (box->rotated.cx, 150, 1e-9);
  g_assert_cmpfloat_with_epsilon (box->rotated.cy, 140, 1e-9);
  g_assert_cmpfloat_with_epsilon (box->rect.height, 120, 1e-6);

  undo (fixture);
  undo (fixture);
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));
}

static void
test_polygon_draw (Fixture       *fixture,
                   gconstpointer  data)
{
  KpPolygonTool *tool;
  const KpAnnotation *polygon;
  guint n = 0;

  tool = KP_POLYGON_TOOL (use_tool (fixture, KP_TOOL_KIND_POLYGON));

  /* Clicks add vertices; a click on the first vertex closes. */
  click (fixture, 100, 100, 0);
  click (fixture, 200, 100, 0);
  g_assert_nonnull (kp_polygon_tool_get_chain (tool, &n));
  g_assert_cmpuint (n, ==, 2);
  click (fixture, 200, 200, 0);
  click (fixture, 102, 101, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  polygon = last_annotation (fixture);
  g_assert_cmpint (polygon->shape, ==, KP_SHAPE_POLYGON);
  g_assert_cmpuint (polygon->n_points, ==, 3);
  assert_point (&polygon->points[0], 100, 100);
  assert_point (&polygon->points[1], 200, 100);
  assert_point (&polygon->points[2], 200, 200);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, polygon->id);
  g_assert_null (kp_polygon_tool_get_chain (tool, &n));

  /* Return closes; below three vertices it waits. BackSpace takes the
   * last vertex back. */
  click (fixture, 300, 300, 0);
  click (fixture, 400, 300, 0);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 1);
  click (fixture, 500, 300, 0);
  g_assert_true (key (fixture, GDK_KEY_BackSpace, 0));
  click (fixture, 400, 400, 0);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 2);
  polygon = last_annotation (fixture);
  g_assert_cmpuint (polygon->n_points, ==, 3);
  assert_point (&polygon->points[2], 400, 400);

  /* Escape drops the chain. */
  click (fixture, 450, 50, 0);
  click (fixture, 500, 50, 0);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));
  g_assert_null (kp_polygon_tool_get_chain (tool, &n));
  g_assert_false (key (fixture, GDK_KEY_BackSpace, 0));

  /* A double click finishes too. */
  click (fixture, 20, 300, 0);
  click (fixture, 80, 300, 0);
  click (fixture, 80, 400, 0);
  click (fixture, 80, 400, 0);
  g_assert_cmpuint (count (fixture), ==, 3);
  g_assert_cmpuint (last_annotation (fixture)->n_points, ==, 3);

  /* Freehand: hold and drag adds vertices along the way. */
  press (fixture, 500, 400, 0);
  for (int i = 1; i <= 10; i++)
    kp_canvas_tool_motion (fixture->canvas, 500 + 10 * i, 400 + (i % 2), 0);
  kp_canvas_tool_release (fixture->canvas, 600, 440, 0);
  kp_polygon_tool_get_chain (tool, &n);
  g_assert_cmpuint (n, ==, 12);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 4);
  g_assert_cmpuint (last_annotation (fixture)->n_points, ==, 12);

  /* Undo takes the polygons away one at a time. */
  undo (fixture);
  g_assert_cmpuint (count (fixture), ==, 3);
}

static void
test_polygon_edit (Fixture       *fixture,
                   gconstpointer  data)
{
  g_auto(KpAnnotation) before = { 0 };
  const KpAnnotation *polygon;
  gint64 id;

  use_tool (fixture, KP_TOOL_KIND_SELECT);
  id = add_square (fixture);
  kp_annotation_copy_to (lookup (fixture, id), &before);

  /* A click inside selects it. */
  click (fixture, 150, 150, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);

  /* Dragging a vertex moves that vertex only. */
  drag (fixture, 200, 100, 220, 90, 0);
  polygon = lookup (fixture, id);
  assert_point (&polygon->points[1], 220, 90);
  assert_point (&polygon->points[0], 100, 100);
  assert_point (&polygon->points[2], 200, 200);
  undo (fixture);
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));

  /* Handles are grabbed within a few device pixels, whatever the zoom:
   * at 200 %, 4 image pixels off is 8 device pixels, too far. */
  kp_canvas_set_view (fixture->canvas, &(KpView) { 2.0, -240, -180 });
  g_assert_cmpfloat (kp_canvas_get_view (fixture->canvas)->scale, ==, 2.0);
  click (fixture, 204, 200, GDK_ALT_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 4);
  select_ids (fixture, &id, 1);
  click (fixture, 202, 200, GDK_ALT_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 3);
  undo (fixture);
  kp_canvas_set_view (fixture->canvas, &(KpView) { 1.0, OFFSET_X, OFFSET_Y });

  /* Dragging an edge moves its two vertices. */
  drag (fixture, 150, 200, 150, 210, 0);
  polygon = lookup (fixture, id);
  assert_point (&polygon->points[2], 200, 210);
  assert_point (&polygon->points[3], 100, 210);
  assert_point (&polygon->points[1], 200, 100);
  undo (fixture);

  /* Ctrl+click on an edge inserts a vertex there; Alt+click removes it. */
  click (fixture, 100, 150, GDK_CONTROL_MASK);
  polygon = lookup (fixture, id);
  g_assert_cmpuint (polygon->n_points, ==, 5);
  assert_point (&polygon->points[4], 100, 150);
  click (fixture, 100, 150, GDK_ALT_MASK);
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));

  /* A double click on an edge inserts too. */
  click (fixture, 150, 100, 0);
  click (fixture, 150, 100, 0);
  polygon = lookup (fixture, id);
  g_assert_cmpuint (polygon->n_points, ==, 5);
  assert_point (&polygon->points[1], 150, 100);

  /* Delete removes the vertex last clicked. */
  click (fixture, 150, 100, 0);
  g_assert_true (key (fixture, GDK_KEY_Delete, 0));
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));
  click (fixture, 100, 100, 0);
  g_assert_true (key (fixture, GDK_KEY_Delete, 0));
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 3);

  /* Never below three. */
  click (fixture, 200, 100, GDK_ALT_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 3);
  click (fixture, 200, 100, 0);
  g_assert_false (key (fixture, GDK_KEY_Delete, 0));
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 3);

  undo (fixture);
  undo (fixture);
  undo (fixture);
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));
}

static void
test_polyline_line (Fixture       *fixture,
                    gconstpointer  data)
{
  const KpAnnotation *shape;
  gint64 id;

  use_tool (fixture, KP_TOOL_KIND_POLYLINE);
  click (fixture, 100, 100, 0);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 0);
  click (fixture, 200, 150, 0);
  click (fixture, 300, 100, 0);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 1);
  shape = last_annotation (fixture);
  id = shape->id;
  g_assert_cmpint (shape->shape, ==, KP_SHAPE_POLYLINE);
  g_assert_cmpuint (shape->n_points, ==, 3);
  assert_point (&shape->points[0], 100, 100);
  assert_point (&shape->points[1], 200, 150);
  assert_point (&shape->points[2], 300, 100);

  /* An open shape has no edge from the last vertex back to the first. */
  click (fixture, 200, 100, GDK_CONTROL_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 3);
  click (fixture, 150, 125, GDK_CONTROL_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 4);
  assert_point (&lookup (fixture, id)->points[1], 150, 125);
  click (fixture, 150, 125, GDK_ALT_MASK);
  click (fixture, 200, 150, GDK_ALT_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 2);
  click (fixture, 100, 100, GDK_ALT_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 2);

  /* Line: one drag, or two clicks. */
  use_tool (fixture, KP_TOOL_KIND_LINE);
  drag (fixture, 400, 100, 500, 200, 0);
  g_assert_cmpuint (count (fixture), ==, 2);
  shape = last_annotation (fixture);
  g_assert_cmpint (shape->shape, ==, KP_SHAPE_LINE);
  assert_point (&shape->points[0], 400, 100);
  assert_point (&shape->points[1], 500, 200);

  click (fixture, 50, 300, 0);
  click (fixture, 60, 400, 0);
  g_assert_cmpuint (count (fixture), ==, 3);
  shape = last_annotation (fixture);
  id = shape->id;
  g_assert_cmpint (shape->shape, ==, KP_SHAPE_LINE);
  assert_point (&shape->points[0], 50, 300);
  assert_point (&shape->points[1], 60, 400);

  /* Its end handles move one end; Ctrl+click adds no vertex to a line. */
  drag (fixture, 60, 400, 70, 410, 0);
  assert_point (&lookup (fixture, id)->points[1], 70, 410);
  assert_point (&lookup (fixture, id)->points[0], 50, 300);
  click (fixture, 60, 355, GDK_CONTROL_MASK);
  g_assert_cmpuint (lookup (fixture, id)->n_points, ==, 2);
}

static void
test_point (Fixture       *fixture,
            gconstpointer  data)
{
  KpPointTool *tool;
  const KpAnnotation *point;
  gint64 id;

  tool = KP_POINT_TOOL (use_tool (fixture, KP_TOOL_KIND_POINT));
  kp_point_tool_set_keypoint_name (tool, "nose");
  kp_point_tool_set_occluded (tool, TRUE);
  g_assert_cmpstr (kp_point_tool_get_keypoint_name (tool), ==, "nose");

  click (fixture, 123, 45, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  point = last_annotation (fixture);
  id = point->id;
  g_assert_cmpint (point->shape, ==, KP_SHAPE_POINT);
  g_assert_cmpuint (point->n_points, ==, 1);
  assert_point (&point->points[0], 123, 45);
  g_assert_cmpstr (point->keypoint, ==, "nose");
  g_assert_true (point->occluded);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);

  /* Pressing the point drags it instead of placing another. */
  drag (fixture, 124, 45, 134, 50, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  assert_point (&lookup (fixture, id)->points[0], 133, 50);
  undo (fixture);
  assert_point (&lookup (fixture, id)->points[0], 123, 45);

  /* Dragging a point among several selected objects moves them all. */
  {
    gint64 box = add_box (fixture, 300, 300, 20, 20);
    gint64 both[] = { box, id };

    select_ids (fixture, both, 2);
    drag (fixture, 123, 45, 128, 47, 0);
    assert_point (&lookup (fixture, id)->points[0], 128, 47);
    assert_rect (&lookup (fixture, box)->rect, 305, 302, 20, 20);
    undo (fixture);
    undo (fixture);
    g_assert_cmpuint (count (fixture), ==, 1);
  }

  /* Outside the image nothing is placed. */
  kp_point_tool_set_keypoint_name (tool, NULL);
  click (fixture, -20, 45, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  click (fixture, 300, 200, 0);
  g_assert_cmpuint (count (fixture), ==, 2);
  g_assert_null (last_annotation (fixture)->keypoint);
}

static void
test_move_nudge (Fixture       *fixture,
                 gconstpointer  data)
{
  g_auto(KpAnnotation) box_before = { 0 };
  g_auto(KpAnnotation) polygon_before = { 0 };
  gint64 ids[2];
  guint n_undo;

  use_tool (fixture, KP_TOOL_KIND_BOX);
  ids[0] = add_box (fixture, 300, 300, 50, 40);
  ids[1] = add_square (fixture);
  kp_annotation_copy_to (lookup (fixture, ids[0]), &box_before);
  kp_annotation_copy_to (lookup (fixture, ids[1]), &polygon_before);

  /* Shift+click adds to the selection, Ctrl+click toggles. */
  click (fixture, 320, 320, 0);
  click (fixture, 150, 150, GDK_SHIFT_MASK);
  assert_selection (fixture, ids, 2);
  click (fixture, 320, 320, GDK_CONTROL_MASK);
  assert_selection (fixture, &ids[1], 1);
  click (fixture, 320, 320, GDK_CONTROL_MASK);
  assert_selection (fixture, (gint64[]) { ids[1], ids[0] }, 2);

  /* Dragging one moves both, as one step. */
  n_undo = kp_document_get_n_undo (fixture->document);
  drag (fixture, 150, 150, 160, 155, 0);
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo + 1);
  assert_rect (&lookup (fixture, ids[0])->rect, 310, 305, 50, 40);
  assert_point (&lookup (fixture, ids[1])->points[0], 110, 105);
  assert_selection (fixture, (gint64[]) { ids[0], ids[1] }, 2);

  /* Escape in the middle of a move leaves everything where it was. */
  press (fixture, 320, 320, 0);
  kp_canvas_tool_motion (fixture->canvas, 340, 330, 0);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));
  kp_canvas_tool_release (fixture->canvas, 340, 330, 0);
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo + 1);
  assert_rect (&lookup (fixture, ids[0])->rect, 310, 305, 50, 40);

  /* Arrows nudge by one, Shift+arrows by ten, a step per key. */
  g_assert_true (key (fixture, GDK_KEY_Left, 0));
  g_assert_true (key (fixture, GDK_KEY_Up, GDK_SHIFT_MASK));
  assert_rect (&lookup (fixture, ids[0])->rect, 309, 295, 50, 40);
  assert_point (&lookup (fixture, ids[1])->points[2], 209, 195);
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo + 3);

  /* Moves stop at the image's edge. */
  keys (fixture, GDK_KEY_Left, GDK_SHIFT_MASK, 20);
  g_assert_cmpfloat (lookup (fixture, ids[1])->points[0].x, ==, 0);
  g_assert_cmpfloat (lookup (fixture, ids[0])->rect.x, ==, 200);
  while (kp_document_get_n_undo (fixture->document) > n_undo)
    undo (fixture);
  g_assert_true (kp_annotation_equal (lookup (fixture, ids[0]), &box_before));
  g_assert_true (kp_annotation_equal (lookup (fixture, ids[1]), &polygon_before));

  /* A click on a member of the selection selects it alone. */
  click (fixture, 320, 320, 0);
  assert_selection (fixture, &ids[0], 1);

  /* A click on empty space clears it; arrows then do nothing. */
  click (fixture, 500, 50, 0);
  assert_selection (fixture, NULL, 0);
  g_assert_false (key (fixture, GDK_KEY_Left, 0));
}

static void
test_locked (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpMask) mask = kp_mask_paint_circle (NULL, 400, 300, 10, TRUE);
  g_auto(KpAnnotation) masked = { 0 };
  gint64 ids[3];
  guint n_undo;

  ids[0] = add_box (fixture, 300, 50, 50, 40);
  ids[1] = add_square (fixture);
  masked.shape = KP_SHAPE_MASK;
  masked.label_id = fixture->car_id;
  masked.mask = kp_mask_copy (mask);
  ids[2] = kp_document_add_annotation (fixture->document, &masked, &error);
  g_assert_no_error (error);
  kp_document_set_flags (fixture->document, ids, 3, KP_ANNOTATION_LOCKED, TRUE, &error);
  g_assert_no_error (error);
  n_undo = kp_document_get_n_undo (fixture->document);

  use_tool (fixture, KP_TOOL_KIND_SELECT);
  select_ids (fixture, &ids[0], 1);
  drag (fixture, 349, 89, 380, 120, 0);           /* resize handle */
  drag (fixture, 320, 70, 330, 80, 0);            /* move */
  assert_rect (&lookup (fixture, ids[0])->rect, 300, 50, 50, 40);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, ids[0]);

  select_ids (fixture, &ids[1], 1);
  drag (fixture, 200, 100, 220, 90, 0);           /* vertex */
  drag (fixture, 150, 200, 150, 210, 0);          /* edge */
  click (fixture, 100, 150, GDK_CONTROL_MASK);    /* insert */
  click (fixture, 100, 100, GDK_ALT_MASK);        /* remove */
  click (fixture, 100, 100, 0);
  key (fixture, GDK_KEY_Delete, 0);
  g_assert_false (key (fixture, GDK_KEY_Right, 0));
  g_assert_cmpuint (lookup (fixture, ids[1])->n_points, ==, 4);
  assert_point (&lookup (fixture, ids[1])->points[1], 200, 100);

  use_tool (fixture, KP_TOOL_KIND_BRUSH);
  select_ids (fixture, &ids[2], 1);
  drag (fixture, 400, 300, 440, 300, 0);
  g_assert_true (kp_mask_equal (lookup (fixture, ids[2])->mask, mask));
  use_tool (fixture, KP_TOOL_KIND_ERASER);
  drag (fixture, 390, 300, 410, 300, 0);
  g_assert_true (kp_mask_equal (lookup (fixture, ids[2])->mask, mask));

  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo);
  g_assert_cmpuint (count (fixture), ==, 3);
}

static void
test_rubber_band (Fixture       *fixture,
                  gconstpointer  data)
{
  gint64 a, b, c;

  a = add_box (fixture, 100, 100, 50, 50);
  b = add_box (fixture, 300, 300, 50, 50);
  c = add_box (fixture, 120, 120, 200, 100);

  use_tool (fixture, KP_TOOL_KIND_SELECT);

  /* Only objects wholly inside the band. */
  drag (fixture, 90, 90, 200, 200, 0);
  assert_selection (fixture, &a, 1);

  /* Shift adds. */
  drag (fixture, 290, 290, 360, 360, GDK_SHIFT_MASK);
  assert_selection (fixture, (gint64[]) { a, b }, 2);

  /* A new band replaces the selection; the band may go either way. */
  drag (fixture, 330, 230, 110, 110, 0);
  assert_selection (fixture, &c, 1);

  /* Hidden objects are left out. */
  kp_document_set_flags (fixture->document, &b, 1, KP_ANNOTATION_HIDDEN, TRUE, NULL);
  drag (fixture, 0, 0, 640, 480, 0);
  assert_selection (fixture, (gint64[]) { a, c }, 2);

  /* A click on empty space clears. */
  click (fixture, 600, 20, 0);
  assert_selection (fixture, NULL, 0);
}

static guint64
mask_area (Fixture *fixture,
           gint64   id)
{
  return kp_mask_get_area (lookup (fixture, id)->mask);
}

static void
test_brush_eraser (Fixture       *fixture,
                   gconstpointer  data)
{
  KpBrushTool *brush;
  const KpAnnotation *annotation;
  guint64 painted, erased;
  gint64 id;

  brush = KP_BRUSH_TOOL (use_tool (fixture, KP_TOOL_KIND_BRUSH));
  g_assert_false (kp_brush_tool_get_erase (brush));
  kp_brush_tool_set_radius (brush, 5);

  /* [ and ] change the radius. */
  g_assert_true (key (fixture, GDK_KEY_bracketright, 0));
  g_assert_cmpfloat (kp_brush_tool_get_radius (brush), ==, 6);
  g_assert_true (key (fixture, GDK_KEY_bracketleft, 0));
  g_assert_cmpfloat (kp_brush_tool_get_radius (brush), ==, 5);

  /* A stroke with nothing selected makes a new mask, in one step. */
  drag (fixture, 100, 100, 140, 100, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  annotation = last_annotation (fixture);
  id = annotation->id;
  g_assert_cmpint (annotation->shape, ==, KP_SHAPE_MASK);
  g_assert_cmpint (annotation->label_id, ==, fixture->car_id);
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, 1);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);

  /* A capsule 40 px long of radius 5: 40 × 10 + π 5² ≈ 479 pixels. */
  painted = mask_area (fixture, id);
  g_assert_cmpuint (painted, >=, 440);
  g_assert_cmpuint (painted, <=, 500);
  g_assert_true (kp_mask_get (annotation->mask, 120, 100));
  g_assert_true (kp_mask_get (annotation->mask, 120, 103));
  g_assert_true (kp_mask_get (annotation->mask, 96, 100));
  g_assert_false (kp_mask_get (annotation->mask, 120, 106));
  g_assert_false (kp_mask_get (annotation->mask, 146, 100));

  /* A second stroke adds to the selected mask. */
  drag (fixture, 120, 100, 120, 130, 0);
  g_assert_cmpuint (count (fixture), ==, 1);
  g_assert_true (kp_mask_get (lookup (fixture, id)->mask, 120, 128));
  g_assert_cmpuint (mask_area (fixture, id), >, painted);
  undo (fixture);
  g_assert_cmpuint (mask_area (fixture, id), ==, painted);

  /* The eraser cuts a vertical strip 5 px wide through it. */
  use_tool (fixture, KP_TOOL_KIND_ERASER);
  kp_brush_tool_set_radius (KP_BRUSH_TOOL (kp_canvas_get_tool (fixture->canvas)), 2.5);
  drag (fixture, 120.5, 80, 120.5, 120, 0);
  erased = mask_area (fixture, id);
  g_assert_cmpuint (painted - erased, ==, 5 * 10);
  g_assert_false (kp_mask_get (lookup (fixture, id)->mask, 120, 100));
  g_assert_false (kp_mask_get (lookup (fixture, id)->mask, 118, 100));
  g_assert_true (kp_mask_get (lookup (fixture, id)->mask, 117, 100));
  g_assert_true (kp_mask_get (lookup (fixture, id)->mask, 123, 100));
  undo (fixture);
  g_assert_cmpuint (mask_area (fixture, id), ==, painted);

  /* The eraser with no mask selected does nothing. */
  kp_canvas_set_selection (fixture->canvas, NULL, 0);
  drag (fixture, 100, 100, 140, 100, 0);
  g_assert_cmpuint (mask_area (fixture, id), ==, painted);
  g_assert_cmpuint (count (fixture), ==, 1);
}

static GBytes *
mask_bytes (Fixture *fixture,
            gint64   id)
{
  return kp_mask_serialize (lookup (fixture, id)->mask);
}

static gint64
new_mask (Fixture *fixture,
          double   x0,
          double   y0,
          double   x1,
          double   y1)
{
  guint n = count (fixture);

  kp_canvas_set_selection (fixture->canvas, NULL, 0);
  drag (fixture, x0, y0, x1, y1, 0);
  g_assert_cmpuint (count (fixture), ==, n + 1);

  return last_annotation (fixture)->id;
}

/* A brush stroke over other masks takes their pixels (overpaint), and
 * the stroke with all it cut is one undo step. */
static void
test_brush_overpaint (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(GBytes) a_before = NULL;
  g_autoptr(GBytes) b_before = NULL;
  g_autoptr(GBytes) a_now = NULL;
  g_autoptr(GBytes) b_now = NULL;
  gboolean overpaint = FALSE;
  KpTool *tool;
  gint64 a, b, c, d;
  guint n_undo;

  tool = use_tool (fixture, KP_TOOL_KIND_BRUSH);
  g_object_get (tool, "overpaint", &overpaint, NULL);
  g_assert_true (overpaint);
  kp_brush_tool_set_radius (KP_BRUSH_TOOL (tool), 5);
  a = new_mask (fixture, 100, 100, 140, 100);
  b = new_mask (fixture, 100, 150, 140, 150);
  g_assert_true (kp_mask_get (lookup (fixture, b)->mask, 120, 150));

  /* A's stroke down through B. */
  select_ids (fixture, &a, 1);
  a_before = mask_bytes (fixture, a);
  b_before = mask_bytes (fixture, b);
  n_undo = kp_document_get_n_undo (fixture->document);
  drag (fixture, 120, 100, 120, 150, 0);
  g_assert_true (kp_mask_get (lookup (fixture, a)->mask, 120, 150));
  g_assert_false (kp_mask_get (lookup (fixture, b)->mask, 120, 150));
  g_assert_true (kp_mask_get (lookup (fixture, b)->mask, 102, 150));
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo + 1);

  /* One undo puts both back, byte for byte. */
  undo (fixture);
  a_now = mask_bytes (fixture, a);
  b_now = mask_bytes (fixture, b);
  g_assert_true (g_bytes_equal (a_now, a_before));
  g_assert_true (g_bytes_equal (b_now, b_before));
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo);
  g_clear_pointer (&a_now, g_bytes_unref);
  g_clear_pointer (&b_now, g_bytes_unref);

  /* A new mask across both: made and cut in one step. */
  c = new_mask (fixture, 130, 90, 130, 160);
  g_assert_false (kp_mask_get (lookup (fixture, a)->mask, 130, 100));
  g_assert_false (kp_mask_get (lookup (fixture, b)->mask, 130, 150));
  g_assert_true (kp_mask_get (lookup (fixture, c)->mask, 130, 150));
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo + 1);
  undo (fixture);
  g_assert_null (kp_document_lookup (fixture->document, c));
  a_now = mask_bytes (fixture, a);
  b_now = mask_bytes (fixture, b);
  g_assert_true (g_bytes_equal (a_now, a_before));
  g_assert_true (g_bytes_equal (b_now, b_before));
  g_clear_pointer (&a_now, g_bytes_unref);
  g_clear_pointer (&b_now, g_bytes_unref);

  /* A mask painted over wholly stays, empty, as the eraser leaves one. */
  d = new_mask (fixture, 300, 300, 300, 300);
  select_ids (fixture, &a, 1);
  kp_brush_tool_set_radius (KP_BRUSH_TOOL (tool), 20);
  drag (fixture, 300, 300, 301, 300, 0);
  g_assert_true (kp_mask_is_empty (lookup (fixture, d)->mask));
  undo (fixture);
  g_assert_false (kp_mask_is_empty (lookup (fixture, d)->mask));
  a_now = mask_bytes (fixture, a);
  g_assert_true (g_bytes_equal (a_now, a_before));
  g_clear_pointer (&a_now, g_bytes_unref);

  /* Locked and hidden masks keep their pixels; so does every mask when
   * overpaint is off, and under the eraser. */
  kp_document_set_flags (fixture->document, &b, 1, KP_ANNOTATION_LOCKED, TRUE, NULL);
  select_ids (fixture, &a, 1);
  kp_brush_tool_set_radius (KP_BRUSH_TOOL (tool), 5);
  drag (fixture, 110, 100, 110, 150, 0);
  g_assert_true (kp_mask_get (lookup (fixture, b)->mask, 110, 150));
  undo (fixture);
  kp_document_set_flags (fixture->document, &b, 1, KP_ANNOTATION_LOCKED, FALSE, NULL);
  kp_document_set_flags (fixture->document, &b, 1, KP_ANNOTATION_HIDDEN, TRUE, NULL);
  drag (fixture, 110, 100, 110, 150, 0);
  g_assert_true (kp_mask_get (lookup (fixture, b)->mask, 110, 150));
  undo (fixture);
  kp_document_set_flags (fixture->document, &b, 1, KP_ANNOTATION_HIDDEN, FALSE, NULL);
  g_object_set (tool, "overpaint", FALSE, NULL);
  drag (fixture, 110, 100, 110, 150, 0);
  g_assert_true (kp_mask_get (lookup (fixture, a)->mask, 110, 150));
  g_assert_true (kp_mask_get (lookup (fixture, b)->mask, 110, 150));
}

/* A stroke decodes the mask it paints once, however many dabs and frames
 * it takes, and encodes a preview only for a frame after a change. */
static void
test_brush_decodes_once (Fixture       *fixture,
                         gconstpointer  data)
{
  const KpAnnotation * const *previews;
  g_autoptr(KpMask) shown = NULL;
  guint decodes = 0, encodes = 0, n = 0;
  guint64 area = 0;
  KpTool *tool;
  gint64 a;

  tool = use_tool (fixture, KP_TOOL_KIND_BRUSH);
  kp_brush_tool_set_radius (KP_BRUSH_TOOL (tool), 4);
  a = new_mask (fixture, 100, 100, 200, 100);
  select_ids (fixture, &a, 1);

  kp_canvas_tool_press (fixture->canvas, 100, 110, 0);
  for (int i = 1; i <= 60; i++)
    {
      kp_canvas_tool_motion (fixture->canvas, 100 + i * 2, 110 + (i % 7), 0);

      /* Two frames for each motion: the second has nothing new. */
      for (int frame = 0; frame < 2; frame++)
        {
          previews = kp_tool_get_preview_annotations (tool, &n);
          g_assert_cmpuint (n, ==, 1);
          g_assert_cmpuint (kp_mask_get_area (previews[0]->mask), >=, area);
          area = kp_mask_get_area (previews[0]->mask);
        }
    }
  g_object_get (tool, "mask-decodes", &decodes, "mask-encodes", &encodes, NULL);
  g_assert_cmpuint (decodes, ==, 1);
  g_assert_cmpuint (encodes, >=, 30);
  g_assert_cmpuint (encodes, <=, 61);

  /* What the preview showed is what the stroke leaves. */
  shown = kp_mask_copy (previews[0]->mask);
  kp_canvas_tool_release (fixture->canvas, 220, 116, 0);
  g_assert_true (kp_mask_get (lookup (fixture, a)->mask, 150, 112));
  g_assert_cmpuint (kp_mask_get_area (lookup (fixture, a)->mask), >=, kp_mask_get_area (shown));
  {
    g_autoptr(KpMask) union_mask = kp_mask_paint_circle (shown, 220, 116, 4, TRUE);

    g_assert_cmpuint (kp_mask_get_area (lookup (fixture, a)->mask), <=, kp_mask_get_area (union_mask) + 200);
  }
}

static void
test_keyboard_box (Fixture       *fixture,
                   gconstpointer  data)
{
  KpTool *tool;
  double x, y;

  tool = use_tool (fixture, KP_TOOL_KIND_BOX);
  g_assert_false (kp_tool_get_keyboard_cursor (tool, &x, &y));

  /* Return puts the cursor in the middle of the view. */
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_true (kp_tool_get_keyboard_cursor (tool, &x, &y));
  g_assert_cmpfloat (x, ==, 320);
  g_assert_cmpfloat (y, ==, 240);

  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Right, GDK_SHIFT_MASK, 3);
  keys (fixture, GDK_KEY_Right, 0, 2);
  keys (fixture, GDK_KEY_Down, GDK_SHIFT_MASK, 2);
  g_assert_cmpuint (count (fixture), ==, 0);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 1);
  assert_rect (&last_annotation (fixture)->rect, 320, 240, 32, 20);

  /* The cursor stays for the next box; it starts where it is, even over
   * the box just drawn, and Escape aborts it. */
  keys (fixture, GDK_KEY_Left, GDK_SHIFT_MASK, 1);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Up, GDK_SHIFT_MASK, 4);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));
  g_assert_false (kp_tool_get_keyboard_cursor (tool, NULL, NULL));
  g_assert_cmpuint (count (fixture), ==, 1);

  /* Again, from the centre: over the existing box it draws, not selects. */
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Right, 0, 5);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Right, GDK_SHIFT_MASK, 1);
  keys (fixture, GDK_KEY_Down, GDK_SHIFT_MASK, 1);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 2);
  assert_rect (&last_annotation (fixture)->rect, 325, 240, 10, 10);

  /* The cursor stops at the image's edge. */
  keys (fixture, GDK_KEY_Right, GDK_SHIFT_MASK, 50);
  g_assert_true (kp_tool_get_keyboard_cursor (tool, &x, &y));
  g_assert_cmpfloat (x, ==, IMAGE_WIDTH);

  /* The select tool has no keyboard drawing. */
  tool = use_tool (fixture, KP_TOOL_KIND_SELECT);
  g_assert_false (key (fixture, GDK_KEY_Return, 0));
  g_assert_false (kp_tool_get_keyboard_cursor (tool, NULL, NULL));
}

static void
count_cb (guint *counter)
{
  (*counter)++;
}

static void
test_keyboard_polygon (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *status = NULL;
  const KpAnnotation *polygon;
  guint n_status = 0;
  KpTool *tool;

  tool = use_tool (fixture, KP_TOOL_KIND_POLYGON);
  g_signal_connect_swapped (tool, "status-changed", G_CALLBACK (count_cb), &n_status);
  g_assert_null (kp_tool_dup_status (tool));

  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* start */
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (320, 240) */
  keys (fixture, GDK_KEY_Right, GDK_SHIFT_MASK, 5);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (370, 240) */
  g_assert_cmpuint (n_status, ==, 8);
  status = kp_tool_dup_status (tool);
  g_assert_cmpstr (status, ==, "Drawing cursor at 370, 240, 2 points placed");
  keys (fixture, GDK_KEY_Down, GDK_SHIFT_MASK, 5);
  keys (fixture, GDK_KEY_Left, 0, 3);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (367, 290) */
  g_assert_true (key (fixture, GDK_KEY_Return, GDK_SHIFT_MASK));
  g_assert_cmpuint (count (fixture), ==, 1);
  polygon = last_annotation (fixture);
  g_assert_cmpint (polygon->shape, ==, KP_SHAPE_POLYGON);
  g_assert_cmpuint (polygon->n_points, ==, 3);
  assert_point (&polygon->points[0], 320, 240);
  assert_point (&polygon->points[1], 370, 240);
  assert_point (&polygon->points[2], 367, 290);

  /* Return on the first vertex closes. */
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (367, 290) */
  keys (fixture, GDK_KEY_Right, GDK_SHIFT_MASK, 3);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (397, 290) */
  keys (fixture, GDK_KEY_Down, GDK_SHIFT_MASK, 3);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (397, 320) */
  keys (fixture, GDK_KEY_Left, GDK_SHIFT_MASK, 3);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (367, 320) */
  keys (fixture, GDK_KEY_Up, GDK_SHIFT_MASK, 3);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* the first again */
  g_assert_cmpuint (count (fixture), ==, 2);
  polygon = last_annotation (fixture);
  g_assert_cmpuint (polygon->n_points, ==, 4);
  assert_point (&polygon->points[3], 367, 320);

  /* BackSpace and Escape work with the keyboard cursor too. */
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Right, 0, 4);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_true (key (fixture, GDK_KEY_BackSpace, 0));
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));
  g_assert_false (kp_tool_get_keyboard_cursor (tool, NULL, NULL));
  g_assert_null (kp_tool_dup_status (tool));
  g_assert_cmpuint (count (fixture), ==, 2);

  /* A line: two Returns. */
  use_tool (fixture, KP_TOOL_KIND_LINE);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Left, GDK_SHIFT_MASK, 2);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (300, 240) */
  keys (fixture, GDK_KEY_Down, 0, 9);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (300, 249) */
  g_assert_cmpuint (count (fixture), ==, 3);
  polygon = last_annotation (fixture);
  g_assert_cmpint (polygon->shape, ==, KP_SHAPE_LINE);
  assert_point (&polygon->points[0], 300, 240);
  assert_point (&polygon->points[1], 300, 249);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));

  /* A rotated box: two corners, like a box. */
  use_tool (fixture, KP_TOOL_KIND_ROTATED_BOX);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Up, GDK_SHIFT_MASK, 10);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (320, 140) */
  keys (fixture, GDK_KEY_Right, GDK_SHIFT_MASK, 4);
  keys (fixture, GDK_KEY_Down, GDK_SHIFT_MASK, 2);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));      /* (360, 160) */
  g_assert_cmpuint (count (fixture), ==, 4);
  polygon = last_annotation (fixture);
  g_assert_cmpint (polygon->shape, ==, KP_SHAPE_ROTATED_BOX);
  g_assert_cmpfloat (polygon->rotated.cx, ==, 340);
  g_assert_cmpfloat (polygon->rotated.cy, ==, 150);
  g_assert_cmpfloat (polygon->rotated.width, ==, 40);
  g_assert_cmpfloat (polygon->rotated.height, ==, 20);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));

  /* A point with the keyboard: one Return. */
  use_tool (fixture, KP_TOOL_KIND_POINT);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  keys (fixture, GDK_KEY_Up, 0, 7);
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  g_assert_cmpuint (count (fixture), ==, 5);
  assert_point (&last_annotation (fixture)->points[0], 320, 233);
}

/* The document's objects, copied, in drawing order. */
static GPtrArray *
copy_all (Fixture *fixture)
{
  GPtrArray *annotations = kp_document_get_annotations (fixture->document);
  GPtrArray *copy = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);

  for (guint i = 0; i < annotations->len; i++)
    g_ptr_array_add (copy, kp_annotation_copy (g_ptr_array_index (annotations, i)));

  return copy;
}

static void
assert_all_equal (Fixture   *fixture,
                  GPtrArray *expected)
{
  GPtrArray *annotations = kp_document_get_annotations (fixture->document);

  g_assert_cmpuint (annotations->len, ==, expected->len);
  for (guint i = 0; i < expected->len; i++)
    {
      const KpAnnotation *want = g_ptr_array_index (expected, i);

      g_assert_true (kp_annotation_equal (lookup (fixture, want->id), want));
    }
}

/* Random edits through the tools: undoing them all gives back exactly
 * what there was, redoing them all exactly what they made, and the store
 * holds the same. */
static void
test_random_edits (Fixture       *fixture,
                   gconstpointer  data)
{
  static const KpPoint line[] = { { 300, 60 }, { 380, 90 }, { 460, 60 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) initial = NULL;
  g_autoptr(GPtrArray) final = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  g_auto(KpAnnotation) rotated = { 0 };
  gint64 ids[4];
  guint n_steps;

  ids[0] = add_square (fixture);
  ids[1] = add_box (fixture, 60, 300, 80, 60);
  rotated.shape = KP_SHAPE_ROTATED_BOX;
  rotated.label_id = fixture->person_id;
  rotated.rotated = (KpRotatedBox) { 400, 300, 100, 60, 0.3 };
  ids[2] = kp_document_add_annotation (fixture->document, &rotated, &error);
  g_assert_no_error (error);
  ids[3] = add_shape (fixture, KP_SHAPE_POLYLINE, line, G_N_ELEMENTS (line));

  use_tool (fixture, KP_TOOL_KIND_SELECT);
  initial = copy_all (fixture);
  n_steps = kp_document_get_n_undo (fixture->document);

  for (guint i = 0; i < 80; i++)
    {
      gint64 id = ids[g_rand_int_range (rand, 0, G_N_ELEMENTS (ids))];
      const KpAnnotation *a;
      double dx = g_rand_int_range (rand, -20, 21);
      double dy = g_rand_int_range (rand, -20, 21);

      select_ids (fixture, &id, 1);
      a = lookup (fixture, id);

      switch (g_rand_int_range (rand, 0, 5))
        {
        case 0:
          {
            static const guint arrows[] = { GDK_KEY_Left, GDK_KEY_Right, GDK_KEY_Up, GDK_KEY_Down };

            key (fixture, arrows[g_rand_int_range (rand, 0, 4)],
                 g_rand_boolean (rand) ? GDK_SHIFT_MASK : 0);
          }
          break;

        case 1:
          if (a->shape == KP_SHAPE_BOX)
            drag (fixture, a->rect.x + a->rect.width, a->rect.y + a->rect.height,
                  a->rect.x + a->rect.width + dx, a->rect.y + a->rect.height + dy, 0);
          else if (a->shape == KP_SHAPE_ROTATED_BOX)
            {
              double s = sin (a->rotated.angle), c = cos (a->rotated.angle);
              double r = a->rotated.height / 2 + KP_TOOL_ROTATION_HANDLE_DISTANCE;

              drag (fixture, a->rotated.cx + r * s, a->rotated.cy - r * c,
                    a->rotated.cx + r * s + dx, a->rotated.cy - r * c + dy, 0);
            }
          else
            {
              KpPoint p = a->points[g_rand_int_range (rand, 0, a->n_points)];

              drag (fixture, p.x, p.y, p.x + dx, p.y + dy, 0);
            }
          break;

        case 2:
          if (a->points != NULL)
            {
              guint v = g_rand_int_range (rand, 0, a->n_points - 1);

              click (fixture, (a->points[v].x + a->points[v + 1].x) / 2,
                     (a->points[v].y + a->points[v + 1].y) / 2, GDK_CONTROL_MASK);
            }
          break;

        case 3:
          if (a->points != NULL)
            {
              KpPoint p = a->points[g_rand_int_range (rand, 0, a->n_points)];

              click (fixture, p.x, p.y, GDK_ALT_MASK);
            }
          break;

        case 4:
        default:
          /* Edges of the polygon and polyline; the middle of the rest. */
          if (a->points != NULL)
            drag (fixture, (a->points[0].x + a->points[1].x) / 2,
                  (a->points[0].y + a->points[1].y) / 2,
                  (a->points[0].x + a->points[1].x) / 2 + dx,
                  (a->points[0].y + a->points[1].y) / 2 + dy, 0);
          else
            drag (fixture, a->rect.x + a->rect.width / 2, a->rect.y + a->rect.height / 2,
                  a->rect.x + a->rect.width / 2 + dx, a->rect.y + a->rect.height / 2 + dy, 0);
          break;
        }
    }

  n_steps = kp_document_get_n_undo (fixture->document) - n_steps;
  g_assert_cmpuint (n_steps, >, 40);
  final = copy_all (fixture);

  /* What the store holds is what the document shows. */
  {
    g_autoptr(KpDocument) reopened = kp_document_new (fixture->store, fixture->media_id, &error);
    GPtrArray *stored;

    g_assert_no_error (error);
    stored = kp_document_get_annotations (reopened);
    g_assert_cmpuint (stored->len, ==, final->len);
    for (guint i = 0; i < stored->len; i++)
      {
        const KpAnnotation *b = g_ptr_array_index (stored, i);

        g_assert_true (kp_annotation_equal (lookup (fixture, b->id), b));
      }
  }

  for (guint i = 0; i < n_steps; i++)
    undo (fixture);
  assert_all_equal (fixture, initial);

  for (guint i = 0; i < n_steps; i++)
    {
      g_assert_true (kp_document_redo (fixture->document, &error));
      g_assert_no_error (error);
    }
  assert_all_equal (fixture, final);
}

/* A 50,000-vertex polygon: a vertex drag changes that vertex only, and
 * the tool's part of each motion (the gesture, its preview and its marks)
 * stays small. The figure is printed, not asserted: the machine is shared. */
static void
test_polygon_50k (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree KpPoint *points = g_new (KpPoint, 50000);
  g_auto(KpAnnotation) before = { 0 };
  const KpAnnotation *polygon;
  KpTool *tool;
  gint64 id, start;
  double ms;

  for (guint i = 0; i < 50000; i++)
    {
      double t = 2 * G_PI * i / 50000;

      points[i] = (KpPoint) { 320 + 200 * cos (t), 240 + 200 * sin (t) };
    }
  id = add_shape (fixture, KP_SHAPE_POLYGON, points, 50000);
  kp_annotation_copy_to (lookup (fixture, id), &before);
  tool = use_tool (fixture, KP_TOOL_KIND_SELECT);
  select_ids (fixture, &id, 1);

  press (fixture, points[12345].x, points[12345].y, 0);
  start = g_get_monotonic_time ();
  for (int i = 1; i <= 20; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      const KpAnnotation * const *previews;
      guint n = 0;

      kp_canvas_tool_motion (fixture->canvas, points[12345].x + i, points[12345].y - i, 0);
      previews = kp_tool_get_preview_annotations (tool, &n);
      g_assert_cmpuint (n, ==, 1);
      g_assert_cmpuint (previews[0]->n_points, ==, 50000);
      kp_tool_snapshot (tool, snapshot, kp_canvas_get_view (fixture->canvas),
                        CANVAS_WIDTH, CANVAS_HEIGHT);
      g_clear_pointer (&snapshot, gtk_snapshot_free_to_node);
    }
  ms = (g_get_monotonic_time () - start) / 1000.0 / 20;
  g_test_message ("tool work per motion on a 50,000-vertex polygon: %.3f ms", ms);
  kp_canvas_tool_release (fixture->canvas, points[12345].x + 20, points[12345].y - 20, 0);

  polygon = lookup (fixture, id);
  g_assert_cmpuint (polygon->n_points, ==, 50000);
  assert_point (&polygon->points[12345], points[12345].x + 20, points[12345].y - 20);
  assert_point (&polygon->points[12344], points[12344].x, points[12344].y);
  assert_point (&polygon->points[12346], points[12346].x, points[12346].y);
  undo (fixture);
  g_assert_true (kp_annotation_equal (lookup (fixture, id), &before));
}

static void
test_cursors (Fixture       *fixture,
              gconstpointer  data)
{
  gint64 box, polygon;
  KpTool *tool;

  box = add_box (fixture, 300, 300, 50, 40);
  polygon = add_square (fixture);

  tool = use_tool (fixture, KP_TOOL_KIND_BOX);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 500, 50), ==, "crosshair");
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 320, 320), ==, "move");
  select_ids (fixture, &box, 1);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 350, 340), ==,
                   kp_handle_cursor_name (KP_HANDLE_BOTTOM_RIGHT));
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 325, 300), ==,
                   kp_handle_cursor_name (KP_HANDLE_TOP));

  tool = use_tool (fixture, KP_TOOL_KIND_SELECT);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 500, 50), ==, "default");
  select_ids (fixture, &polygon, 1);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 200, 100), ==, "grab");
  press (fixture, 200, 100, 0);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 200, 100), ==, "grabbing");
  g_assert_true (kp_tool_cancel (tool));
  g_assert_false (kp_tool_cancel (tool));

  /* A polygon being drawn points at the vertex that closes it. */
  tool = use_tool (fixture, KP_TOOL_KIND_POLYGON);
  click (fixture, 400, 50, 0);
  click (fixture, 450, 50, 0);
  click (fixture, 450, 100, 0);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 401, 51), ==, "pointer");
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 420, 80), ==, "crosshair");

  tool = use_tool (fixture, KP_TOOL_KIND_BRUSH);
  g_assert_cmpstr (kp_tool_get_cursor_name (tool, 320, 320), ==, "crosshair");
}

/* Rendering: the tool's marks where they belong. */

static void
get_pixel (cairo_surface_t *surface,
           int              x,
           int              y,
           guint8           rgb[3])
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  guint32 pixel = *(const guint32 *)(gconstpointer)(data + y * stride + x * 4);

  rgb[0] = (pixel >> 16) & 0xff;
  rgb[1] = (pixel >> 8) & 0xff;
  rgb[2] = pixel & 0xff;
}

static gboolean
is_white (cairo_surface_t *surface,
          double           image_x,
          double           image_y)
{
  guint8 rgb[3];

  get_pixel (surface, (int)round (image_x) + OFFSET_X, (int)round (image_y) + OFFSET_Y, rgb);
  return rgb[0] > 240 && rgb[1] > 240 && rgb[2] > 240;
}

static gboolean
is_white_near (cairo_surface_t *surface,
               double           image_x,
               double           image_y)
{
  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      if (is_white (surface, image_x + dx, image_y + dy))
        return TRUE;

  return FALSE;
}

/* The top-left corner of the handle centred on (image_x, image_y): the
 * label's colour, as the canvas draws its own handles. */
static gboolean
has_handle (cairo_surface_t *surface,
            double           image_x,
            double           image_y,
            const char      *color)
{
  GdkRGBA rgba;
  guint8 rgb[3];

  g_assert_true (gdk_rgba_parse (&rgba, color));
  get_pixel (surface, (int)round (image_x) + OFFSET_X - 4, (int)round (image_y) + OFFSET_Y - 4, rgb);

  return ABS (rgb[0] - (int)round (rgba.red * 255)) <= 24 &&
         ABS (rgb[1] - (int)round (rgba.green * 255)) <= 24 &&
         ABS (rgb[2] - (int)round (rgba.blue * 255)) <= 24;
}

static cairo_surface_t *
render (Fixture *fixture)
{
  return kp_test_render_widget (GTK_WIDGET (fixture->canvas), 0, 0, CANVAS_WIDTH, CANVAS_HEIGHT);
}

static void
test_render (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(KpAnnotation) rotated = { 0 };
  cairo_surface_t *surface;
  gint64 polygon_id, rotated_id;
  KpTool *tool;

  polygon_id = add_square (fixture);
  rotated.shape = KP_SHAPE_ROTATED_BOX;
  rotated.label_id = fixture->person_id;
  rotated.rotated = (KpRotatedBox) { 450, 300, 100, 60, 0 };
  rotated_id = kp_document_add_annotation (fixture->document, &rotated, &error);
  g_assert_no_error (error);

  /* Nothing selected: no handles. */
  use_tool (fixture, KP_TOOL_KIND_SELECT);
  surface = render (fixture);
  g_assert_false (has_handle (surface, 100, 100, CAR));
  g_assert_false (is_white (surface, 100, 100));
  cairo_surface_destroy (surface);

  /* A polygon: one handle per vertex, none between. */
  select_ids (fixture, &polygon_id, 1);
  surface = render (fixture);
  g_assert_true (has_handle (surface, 100, 100, CAR));
  g_assert_true (has_handle (surface, 200, 100, CAR));
  g_assert_true (has_handle (surface, 200, 200, CAR));
  g_assert_true (has_handle (surface, 100, 200, CAR));
  g_assert_true (is_white (surface, 200, 200));
  g_assert_true (is_white (surface, 100, 100));
  g_assert_false (has_handle (surface, 150, 150, CAR));
  g_assert_false (has_handle (surface, 150, 96, CAR));
  g_assert_false (is_white (surface, 150, 150));
  cairo_surface_destroy (surface);

  /* A rotated box: eight handles and the rotation handle above. */
  select_ids (fixture, &rotated_id, 1);
  surface = render (fixture);
  g_assert_true (has_handle (surface, 400, 270, PERSON));
  g_assert_true (has_handle (surface, 450, 270, PERSON));
  g_assert_true (has_handle (surface, 500, 300, PERSON));
  g_assert_true (has_handle (surface, 450, 330, PERSON));
  g_assert_true (is_white (surface, 500, 300));
  /* The rotation handle is solid. */
  g_assert_true (has_handle (surface, 450, 270 - KP_TOOL_ROTATION_HANDLE_DISTANCE, PERSON));
  g_assert_false (is_white (surface, 450, 270 - KP_TOOL_ROTATION_HANDLE_DISTANCE));
  g_assert_false (has_handle (surface, 100, 100, CAR));
  g_assert_false (has_handle (surface, 450, 300, PERSON));
  cairo_surface_destroy (surface);

  /* A polygon being drawn shows its vertices. */
  kp_canvas_set_selection (fixture->canvas, NULL, 0);
  use_tool (fixture, KP_TOOL_KIND_POLYGON);
  click (fixture, 300, 50, 0);
  click (fixture, 350, 60, 0);
  surface = render (fixture);
  g_assert_true (has_handle (surface, 300, 50, CAR));
  g_assert_false (is_white (surface, 300, 50));
  g_assert_true (has_handle (surface, 350, 60, CAR));
  g_assert_true (is_white (surface, 350, 60));
  cairo_surface_destroy (surface);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));
  surface = render (fixture);
  g_assert_false (is_white (surface, 350, 60));
  cairo_surface_destroy (surface);

  /* The keyboard cursor is a crosshair through the whole view. */
  g_assert_true (key (fixture, GDK_KEY_Return, 0));
  surface = render (fixture);
  g_assert_true (is_white (surface, 320, 10));
  g_assert_true (is_white (surface, 600, 240));
  g_assert_false (is_white (surface, 600, 250));
  cairo_surface_destroy (surface);
  g_assert_true (key (fixture, GDK_KEY_Escape, 0));

  /* The brush outline follows the pointer through a stroke. */
  tool = use_tool (fixture, KP_TOOL_KIND_BRUSH);
  kp_brush_tool_set_radius (KP_BRUSH_TOOL (tool), 20);
  press (fixture, 480, 100, 0);
  kp_canvas_tool_motion (fixture->canvas, 500, 100, 0);
  surface = render (fixture);
  g_assert_true (is_white_near (surface, 520, 100));
  g_assert_true (is_white_near (surface, 500, 80));
  g_assert_true (is_white_near (surface, 480, 100));
  g_assert_false (is_white_near (surface, 500, 100));
  g_assert_false (is_white_near (surface, 510, 100));
  cairo_surface_destroy (surface);
  g_assert_true (kp_tool_cancel (tool));
  g_assert_cmpuint (count (fixture), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/tools/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("kinds", test_kinds);
  ADD ("box", test_box);
  ADD ("rotated-box", test_rotated_box);
  ADD ("polygon-draw", test_polygon_draw);
  ADD ("polygon-edit", test_polygon_edit);
  ADD ("polyline-line", test_polyline_line);
  ADD ("point", test_point);
  ADD ("move-nudge", test_move_nudge);
  ADD ("locked", test_locked);
  ADD ("rubber-band", test_rubber_band);
  ADD ("brush-eraser", test_brush_eraser);
  ADD ("brush-overpaint", test_brush_overpaint);
  ADD ("brush-decodes-once", test_brush_decodes_once);
  ADD ("keyboard-box", test_keyboard_box);
  ADD ("keyboard-polygon", test_keyboard_polygon);
  ADD ("random-edits", test_random_edits);
  ADD ("polygon-50k", test_polygon_50k);
  ADD ("cursors", test_cursors);
  ADD ("render", test_render);

#undef ADD

  return g_test_run ();
}
