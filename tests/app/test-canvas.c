/* test-canvas.c: the canvas and its box tool, driven in image coordinates
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "kp-canvas.h"
#include "kp-canvas-private.h"
#include "kp-core.h"
#include "kp-test-render.h"

#define IMAGE_WIDTH 640
#define IMAGE_HEIGHT 480
#define CANVAS_WIDTH 800
#define CANVAS_HEIGHT 600


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
  char       *last_error;
} Fixture;

static void
write_test_image (const char *path)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, IMAGE_WIDTH, IMAGE_HEIGHT);
  cairo_t *cr = cairo_create (surface);

  /* Flat quadrants and a checker band: deterministic, and they compress. */
  cairo_set_source_rgb (cr, 0.55, 0.60, 0.65);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.80, 0.70, 0.40);
  cairo_rectangle (cr, IMAGE_WIDTH / 2, 0, IMAGE_WIDTH / 2, IMAGE_HEIGHT / 2);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.30, 0.45, 0.30);
  cairo_rectangle (cr, 0, IMAGE_HEIGHT / 2, IMAGE_WIDTH / 2, IMAGE_HEIGHT / 2);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0.15, 0.15, 0.20);
  for (int y = 200; y < 280; y += 40)
    for (int x = 0; x < IMAGE_WIDTH; x += 40)
      if (((x + y) / 40) % 2 == 0)
        cairo_rectangle (cr, x, y, 40, 40);
  cairo_fill (cr);
  cairo_destroy (cr);

  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
}

static void
error_cb (KpCanvas     *canvas,
          const GError *error,
          Fixture      *fixture)
{
  g_assert_nonnull (error);
  fixture->n_errors++;
  g_free (fixture->last_error);
  fixture->last_error = g_strdup (error->message);
}

static void
wait_for_allocation (GtkWidget *widget)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while ((gtk_widget_get_width (widget) != CANVAS_WIDTH ||
          gtk_widget_get_height (widget) != CANVAS_HEIGHT) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpint (gtk_widget_get_width (widget), ==, CANVAS_WIDTH);
  g_assert_cmpint (gtk_widget_get_height (widget), ==, CANVAS_HEIGHT);
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

  fixture->folder = g_dir_make_tmp ("kp-test-canvas-XXXXXX", &error);
  g_assert_no_error (error);
  image_path = g_build_filename (fixture->folder, "scene.png", NULL);
  write_test_image (image_path);

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

  pixbuf = gdk_pixbuf_new_from_file (image_path, &error);
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

  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_for_allocation (GTK_WIDGET (fixture->canvas));

  /* Best fit never magnifies: 640x480 sits at 100 % in the middle. */
  g_assert_true (kp_canvas_get_fit (fixture->canvas));
  g_assert_cmpfloat (kp_canvas_get_zoom (fixture->canvas), ==, 1.0);
  g_assert_cmpfloat (kp_canvas_get_view (fixture->canvas)->offset_x, ==, 80.0);
  g_assert_cmpfloat (kp_canvas_get_view (fixture->canvas)->offset_y, ==, 60.0);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          remove_tree (child);
        }
      g_rmdir (path);
    }
  else
    {
      g_unlink (path);
    }
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
  g_free (fixture->last_error);
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

static guint
count_annotations (Fixture *fixture)
{
  return kp_document_get_annotations (fixture->document)->len;
}

/* What the database holds, read back through the store. */
static GPtrArray *
stored_annotations (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *annotations = kp_store_list_annotations (fixture->store, fixture->media_id, &error);

  g_assert_no_error (error);
  return annotations;
}

static void
assert_stored_rect (Fixture *fixture,
                    gint64   id,
                    double   x,
                    double   y,
                    double   width,
                    double   height)
{
  g_autoptr(GPtrArray) annotations = stored_annotations (fixture);

  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);

      if (annotation->id == id)
        {
          assert_rect (&annotation->rect, x, y, width, height);
          return;
        }
    }

  g_assert_not_reached ();
}

static gint64
add_box (Fixture *fixture,
         gint64   label_id,
         double   x,
         double   y,
         double   width,
         double   height)
{
  g_autoptr(GError) error = NULL;
  KpRect rect = { x, y, width, height };
  gint64 id = kp_document_add (fixture->document, label_id, &rect, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
drag (KpCanvas *canvas,
      double    x0,
      double    y0,
      double    x1,
      double    y1)
{
  kp_canvas_tool_press (canvas, x0, y0, 0);
  kp_canvas_tool_motion (canvas, (x0 + x1) / 2, (y0 + y1) / 2, 0);
  kp_canvas_tool_motion (canvas, x1, y1, 0);
  kp_canvas_tool_release (canvas, x1, y1, 0);
}

static void
test_draw_box (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GPtrArray) stored = NULL;
  const KpAnnotation *annotation;

  kp_canvas_set_current_label_id (fixture->canvas, fixture->car_id);

  kp_canvas_tool_press (fixture->canvas, 100, 100, 0);
  kp_canvas_tool_motion (fixture->canvas, 150, 120, 0);
  kp_canvas_tool_motion (fixture->canvas, 200.4, 149.6, 0);

  /* The gesture in progress writes nothing. */
  g_assert_cmpuint (count_annotations (fixture), ==, 0);
  stored = stored_annotations (fixture);
  g_assert_cmpuint (stored->len, ==, 0);
  g_clear_pointer (&stored, g_ptr_array_unref);

  kp_canvas_tool_release (fixture->canvas, 200.4, 149.6, 0);

  g_assert_cmpuint (count_annotations (fixture), ==, 1);
  annotation = g_ptr_array_index (kp_document_get_annotations (fixture->document), 0);
  assert_rect (&annotation->rect, 100, 100, 100, 50);
  g_assert_cmpint (annotation->label_id, ==, fixture->car_id);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, annotation->id);
  assert_stored_rect (fixture, annotation->id, 100, 100, 100, 50);

  /* Dragging towards the top-left and beyond the image clamps to it. */
  drag (fixture->canvas, 50, 40, -30, -70);
  g_assert_cmpuint (count_annotations (fixture), ==, 2);
  annotation = kp_document_lookup (fixture->document, kp_canvas_get_selected_id (fixture->canvas));
  g_assert_nonnull (annotation);
  assert_rect (&annotation->rect, 0, 0, 50, 40);
  assert_stored_rect (fixture, annotation->id, 0, 0, 50, 40);

  /* A one-pixel wiggle on empty space is a click: it deselects and adds nothing. */
  drag (fixture->canvas, 400, 400, 401, 400);
  g_assert_cmpuint (count_annotations (fixture), ==, 2);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);
  g_assert_cmpuint (fixture->n_errors, ==, 0);
}

static void
test_move_box (Fixture       *fixture,
               gconstpointer  data)
{
  gint64 id = add_box (fixture, fixture->car_id, 100, 100, 100, 50);
  const KpAnnotation *annotation;

  kp_canvas_tool_press (fixture->canvas, 150, 120, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);
  kp_canvas_tool_motion (fixture->canvas, 170, 130, 0);
  annotation = kp_document_lookup (fixture->document, id);
  assert_rect (&annotation->rect, 100, 100, 100, 50);
  assert_stored_rect (fixture, id, 100, 100, 100, 50);
  kp_canvas_tool_release (fixture->canvas, 180, 140, 0);

  annotation = kp_document_lookup (fixture->document, id);
  assert_rect (&annotation->rect, 130, 120, 100, 50);
  assert_stored_rect (fixture, id, 130, 120, 100, 50);

  /* Moving is clamped: the box stays whole inside the image. */
  drag (fixture->canvas, 140, 130, 2000, 2000);
  annotation = kp_document_lookup (fixture->document, id);
  assert_rect (&annotation->rect, IMAGE_WIDTH - 100, IMAGE_HEIGHT - 50, 100, 50);
  assert_stored_rect (fixture, id, IMAGE_WIDTH - 100, IMAGE_HEIGHT - 50, 100, 50);
  g_assert_cmpuint (count_annotations (fixture), ==, 1);
}

static void
test_resize_box (Fixture       *fixture,
                 gconstpointer  data)
{
  gint64 id = add_box (fixture, fixture->car_id, 100, 100, 100, 50);
  const KpAnnotation *annotation;

  kp_canvas_set_selected_id (fixture->canvas, id);

  /* The bottom-right handle, grabbed 3 px off (tolerance is 6 px at 100 %). */
  drag (fixture->canvas, 203, 152, 253, 202);
  annotation = kp_document_lookup (fixture->document, id);
  assert_rect (&annotation->rect, 100, 100, 150, 100);
  assert_stored_rect (fixture, id, 100, 100, 150, 100);

  /* The left edge, dragged past the right one, flips the box. */
  drag (fixture->canvas, 100, 150, 300, 150);
  annotation = kp_document_lookup (fixture->document, id);
  assert_rect (&annotation->rect, 250, 100, 50, 100);
  assert_stored_rect (fixture, id, 250, 100, 50, 100);

  /* At 200 % the tolerance is 3 image pixels: 5 px off misses the handle
   * and, being outside the box, deselects. */
  kp_canvas_set_zoom (fixture->canvas, 2.0);
  kp_canvas_tool_press (fixture->canvas, 305, 205, 0);
  kp_canvas_tool_release (fixture->canvas, 305, 205, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);

  /* Resizing is clamped to the image. */
  kp_canvas_set_selected_id (fixture->canvas, id);
  drag (fixture->canvas, 300, 200, 900, 900);
  annotation = kp_document_lookup (fixture->document, id);
  assert_rect (&annotation->rect, 250, 100, IMAGE_WIDTH - 250, IMAGE_HEIGHT - 100);
  assert_stored_rect (fixture, id, 250, 100, IMAGE_WIDTH - 250, IMAGE_HEIGHT - 100);
}

static void
test_click_select (Fixture       *fixture,
                   gconstpointer  data)
{
  gint64 a = add_box (fixture, fixture->car_id, 100, 100, 100, 100);
  gint64 b = add_box (fixture, fixture->person_id, 150, 150, 100, 100);

  /* Where they overlap the topmost (last drawn) wins. */
  drag (fixture->canvas, 175, 175, 175, 175);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, b);
  drag (fixture->canvas, 120, 120, 120, 120);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "canvas.cancel", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);
  drag (fixture->canvas, 240, 240, 240, 240);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, b);
  drag (fixture->canvas, 500, 400, 500, 400);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);

  /* A click moved nothing and wrote nothing. */
  assert_rect (&kp_document_lookup (fixture->document, a)->rect, 100, 100, 100, 100);
  assert_rect (&kp_document_lookup (fixture->document, b)->rect, 150, 150, 100, 100);

  /* Escape during a move puts the box back and writes nothing. */
  kp_canvas_tool_press (fixture->canvas, 120, 120, 0);
  kp_canvas_tool_motion (fixture->canvas, 300, 300, 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "canvas.cancel", NULL));
  kp_canvas_tool_release (fixture->canvas, 300, 300, 0);
  assert_rect (&kp_document_lookup (fixture->document, a)->rect, 100, 100, 100, 100);
  assert_stored_rect (fixture, a, 100, 100, 100, 100);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
}

static void
test_cycle (Fixture       *fixture,
            gconstpointer  data)
{
  GtkWidget *canvas = GTK_WIDGET (fixture->canvas);
  gint64 a = add_box (fixture, fixture->car_id, 10, 10, 20, 20);
  gint64 b = add_box (fixture, fixture->car_id, 300, 10, 20, 20);
  gint64 c = add_box (fixture, fixture->person_id, 10, 300, 20, 20);

  g_assert_true (gtk_widget_activate_action (canvas, "annotation.next", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
  g_assert_true (gtk_widget_activate_action (canvas, "annotation.next", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, b);
  g_assert_true (gtk_widget_activate_action (canvas, "annotation.next", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, c);
  g_assert_true (gtk_widget_activate_action (canvas, "annotation.next", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
  g_assert_true (gtk_widget_activate_action (canvas, "annotation.previous", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, c);
  g_assert_true (gtk_widget_activate_action (canvas, "annotation.previous", NULL));
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, b);

  g_assert_null (gtk_test_accessible_check_property (GTK_ACCESSIBLE (canvas),
                                                     GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                     "Image, 3 objects, selected: car (box)"));
}

static void
test_delete_undo (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  GtkWidget *canvas = GTK_WIDGET (fixture->canvas);
  gint64 id;

  kp_canvas_set_current_label_id (fixture->canvas, fixture->person_id);
  drag (fixture->canvas, 20, 30, 120, 90);
  id = kp_canvas_get_selected_id (fixture->canvas);
  g_assert_cmpint (id, >, 0);
  drag (fixture->canvas, 50, 50, 60, 70);
  assert_stored_rect (fixture, id, 30, 50, 100, 60);

  /* Undo the move, then the drawing; redo both. */
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  assert_rect (&kp_document_lookup (fixture->document, id)->rect, 20, 30, 100, 60);
  assert_stored_rect (fixture, id, 20, 30, 100, 60);
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_annotations (fixture), ==, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);
  g_assert_true (kp_document_redo (fixture->document, &error));
  g_assert_true (kp_document_redo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_annotations (fixture), ==, 1);
  id = ((KpAnnotation *)g_ptr_array_index (kp_document_get_annotations (fixture->document), 0))->id;
  assert_stored_rect (fixture, id, 30, 50, 100, 60);

  /* Delete does nothing without a selection. */
  gtk_widget_activate_action (canvas, "annotation.delete", NULL);
  g_assert_cmpuint (count_annotations (fixture), ==, 1);
  kp_canvas_set_selected_id (fixture->canvas, id);
  g_assert_true (gtk_widget_activate_action (canvas, "annotation.delete", NULL));
  g_assert_cmpuint (count_annotations (fixture), ==, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);
  stored = stored_annotations (fixture);
  g_assert_cmpuint (stored->len, ==, 0);
  g_clear_pointer (&stored, g_ptr_array_unref);

  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_annotations (fixture), ==, 1);
  assert_stored_rect (fixture, id, 30, 50, 100, 60);
}

/* Snapshot comparison */

static cairo_surface_t *
render_canvas (KpCanvas *canvas)
{
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (canvas)), ==, CANVAS_WIDTH);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (canvas)), ==, CANVAS_HEIGHT);

  return kp_test_render_widget (GTK_WIDGET (canvas), 0, 0, CANVAS_WIDTH, CANVAS_HEIGHT);
}

static void
assert_pixel (cairo_surface_t *surface,
              int              x,
              int              y,
              double           red,
              double           green,
              double           blue)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  guint32 pixel = *(const guint32 *)(data + y * cairo_image_surface_get_stride (surface) + x * 4);
  int r = (pixel >> 16) & 0xff;
  int g = (pixel >> 8) & 0xff;
  int b = pixel & 0xff;

  g_assert_cmpint (ABS (r - (int)(red * 255 + 0.5)), <=, 1);
  g_assert_cmpint (ABS (g - (int)(green * 255 + 0.5)), <=, 1);
  g_assert_cmpint (ABS (b - (int)(blue * 255 + 0.5)), <=, 1);
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_zoom (Fixture       *fixture,
           gconstpointer  data)
{
  GtkWidget *canvas = GTK_WIDGET (fixture->canvas);
  const KpView *view = kp_canvas_get_view (fixture->canvas);
  cairo_surface_t *surface;
  KpView custom;
  guint zoom_notifies = 0;
  guint fit_notifies = 0;
  double wx, wy;

  g_signal_connect (canvas, "notify::zoom", G_CALLBACK (count_notify_cb), &zoom_notifies);
  g_signal_connect (canvas, "notify::fit", G_CALLBACK (count_notify_cb), &fit_notifies);

  /* The image point at the widget centre stays put. */
  kp_canvas_set_zoom (fixture->canvas, 2.0);
  g_assert_cmpfloat (kp_canvas_get_zoom (fixture->canvas), ==, 2.0);
  kp_view_image_to_widget (view, 320, 240, &wx, &wy);
  g_assert_cmpfloat_with_epsilon (wx, CANVAS_WIDTH / 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (wy, CANVAS_HEIGHT / 2.0, 1e-9);
  g_assert_false (kp_canvas_get_fit (fixture->canvas));
  g_assert_cmpuint (zoom_notifies, ==, 1);
  g_assert_cmpuint (fit_notifies, ==, 1);

  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-in", NULL));
  g_assert_cmpfloat (kp_canvas_get_zoom (fixture->canvas), >, 2.0);
  g_assert_cmpuint (zoom_notifies, ==, 2);
  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-out", NULL));
  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-out", NULL));
  g_assert_cmpfloat (kp_canvas_get_zoom (fixture->canvas), <, 2.0);

  /* Panning past the edge is clamped: no margin beyond the image. */
  custom = (KpView) { 2.0, 500, 500 };
  kp_canvas_set_view (fixture->canvas, &custom);
  g_assert_cmpfloat (view->scale, ==, 2.0);
  g_assert_cmpfloat (view->offset_x, ==, 0);
  g_assert_cmpfloat (view->offset_y, ==, 0);

  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-fit", NULL));
  g_assert_true (kp_canvas_get_fit (fixture->canvas));
  g_assert_cmpfloat (view->scale, ==, 1.0);
  g_assert_cmpfloat (view->offset_x, ==, 80);
  g_assert_cmpfloat (view->offset_y, ==, 60);

  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-100", NULL));
  g_assert_cmpfloat (view->scale, ==, 1.0);
  g_assert_false (kp_canvas_get_fit (fixture->canvas));

  /* Above 4x the image is drawn pixel-exact: the image pixels (319, 240)
   * and (320, 240) meet at the widget centre without any blending. */
  kp_canvas_set_zoom (fixture->canvas, 8.0);
  g_assert_cmpfloat (kp_canvas_get_zoom (fixture->canvas), ==, 8.0);
  surface = render_canvas (fixture->canvas);
  assert_pixel (surface, CANVAS_WIDTH / 2 - 1, CANVAS_HEIGHT / 2, 0.30, 0.45, 0.30);
  assert_pixel (surface, CANVAS_WIDTH / 2, CANVAS_HEIGHT / 2, 0.15, 0.15, 0.20);
  cairo_surface_destroy (surface);
}

static void
test_no_label (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GPtrArray) stored = NULL;

  g_assert_cmpint (kp_canvas_get_current_label_id (fixture->canvas), ==, 0);

  /* A click is fine: nothing to refuse. */
  drag (fixture->canvas, 100, 100, 100, 100);
  g_assert_cmpuint (fixture->n_errors, ==, 0);

  drag (fixture->canvas, 100, 100, 200, 200);
  g_assert_cmpuint (fixture->n_errors, ==, 1);
  g_assert_cmpstr (fixture->last_error, ==, "Choose a label first (keys 1–9)");
  g_assert_cmpuint (count_annotations (fixture), ==, 0);
  stored = stored_annotations (fixture);
  g_assert_cmpuint (stored->len, ==, 0);
  g_assert_false (kp_document_get_can_undo (fixture->document));
}

static void
test_store_error (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) stored = NULL;

  /* A label the store does not know: the write fails, nothing changes. */
  kp_canvas_set_current_label_id (fixture->canvas, 4242);
  drag (fixture->canvas, 100, 100, 200, 200);
  g_assert_cmpuint (fixture->n_errors, ==, 1);
  g_assert_nonnull (fixture->last_error);
  g_assert_cmpuint (count_annotations (fixture), ==, 0);
  stored = stored_annotations (fixture);
  g_assert_cmpuint (stored->len, ==, 0);
}

/* A tool that draws no marks: what the canvas alone draws, whatever the
 * tools' handles look like. */
#define NULL_TYPE_TOOL (null_tool_get_type ())
G_DECLARE_FINAL_TYPE (NullTool, null_tool, NULL, TOOL, KpTool)

struct _NullTool
{
  KpTool parent_instance;
};

G_DEFINE_FINAL_TYPE (NullTool, null_tool, KP_TYPE_TOOL)

static const KpAnnotation * const *
null_tool_get_preview_annotations (KpTool *tool,
                                   guint  *n)
{
  *n = 0;
  return NULL;
}

static void
null_tool_snapshot (KpTool       *tool,
                    GtkSnapshot  *snapshot,
                    const KpView *view,
                    double        width,
                    double        height)
{
}

static void
null_tool_class_init (NullToolClass *klass)
{
  KP_TOOL_CLASS (klass)->get_preview_annotations = null_tool_get_preview_annotations;
  KP_TOOL_CLASS (klass)->snapshot = null_tool_snapshot;
}

static void
null_tool_init (NullTool *self)
{
}

static void
test_snapshot (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(KpTool) tool = g_object_new (NULL_TYPE_TOOL, "canvas", fixture->canvas, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = kp_test_reference_path ("canvas-boxes.png");
  cairo_surface_t *reference;
  cairo_surface_t *rendered;
  cairo_surface_t *moved;
  KpRect rect;
  gint64 a, b;

  kp_canvas_set_tool (fixture->canvas, tool);
  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  a = add_box (fixture, fixture->car_id, 60, 50, 180, 120);
  b = add_box (fixture, fixture->person_id, 200, 140, 120, 220);
  add_box (fixture, fixture->car_id, 420, 300, 160, 100);
  kp_canvas_set_selected_id (fixture->canvas, b);

  rendered = render_canvas (fixture->canvas);
  kp_test_assert_matches_reference (rendered, "canvas-boxes.png");
  reference = cairo_image_surface_create_from_png (path);

  /* The comparison must catch a box moved by 10 px. */
  rect = kp_document_lookup (fixture->document, a)->rect;
  rect.x += 10;
  g_assert_true (kp_document_set_rect (fixture->document, a, &rect, &error));
  g_assert_no_error (error);
  moved = render_canvas (fixture->canvas);
  g_assert_cmpfloat (kp_test_compare_surfaces (moved, reference), >, KP_TEST_PIXEL_TOLERANCE);

  /* And the undone move renders like the reference again. */
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  cairo_surface_destroy (moved);
  moved = render_canvas (fixture->canvas);
  g_assert_cmpfloat (kp_test_compare_surfaces (moved, reference), <=, KP_TEST_PIXEL_TOLERANCE);

  cairo_surface_destroy (moved);
  cairo_surface_destroy (rendered);
  cairo_surface_destroy (reference);
}

static void
test_captions (Fixture       *fixture,
               gconstpointer  data)
{
  cairo_surface_t *with, *without;

  add_box (fixture, fixture->car_id, 60, 50, 180, 120);

  g_assert_true (kp_canvas_get_show_captions (fixture->canvas));
  with = render_canvas (fixture->canvas);
  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  without = render_canvas (fixture->canvas);

  /* The caption chip is drawn above the box, so the renders differ. */
  g_assert_cmpfloat (kp_test_compare_surfaces (with, without), >, 0);

  cairo_surface_destroy (with);
  cairo_surface_destroy (without);
}

/* The view, picking and the cached layer */

static guint32
surface_pixel (cairo_surface_t *surface,
               int              x,
               int              y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);

  return *(const guint32 *)(data + y * cairo_image_surface_get_stride (surface) + x * 4) | 0xff000000;
}

/* The image's own pixel (x, y), in the same format. */
static guint32
image_pixel (Fixture *fixture,
             int      x,
             int      y)
{
  static guint32 *pixels;

  if (pixels == NULL)
    {
      pixels = g_new (guint32, IMAGE_WIDTH * IMAGE_HEIGHT);
      gdk_texture_download (fixture->texture, (guchar *)pixels, IMAGE_WIDTH * 4);
    }

  return pixels[y * IMAGE_WIDTH + x] | 0xff000000;
}

static int
channel (guint32 pixel,
         int     shift)
{
  return (pixel >> shift) & 0xff;
}

static void assert_anchored (const KpView *view,
                             double        image_x,
                             double        image_y,
                             double        widget_x,
                             double        widget_y);

/* At 4x every image pixel is a 4x4 block of exactly its colour: no
 * filtering at all, so the image can be checked against itself. */
static void
test_pixel_exact (Fixture       *fixture,
                  gconstpointer  data)
{
  const KpView *view = kp_canvas_get_view (fixture->canvas);
  cairo_surface_t *surface;
  guint mismatches = 0;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  add_box (fixture, fixture->car_id, 300, 230, 10, 6);
  /* Image point (303, 233) at the widget centre. */
  kp_canvas_zoom_at (fixture->canvas, 4.0, 80 + 303, 60 + 233);
  g_assert_cmpfloat (view->scale, ==, 4.0);
  assert_anchored (view, 303, 233, 80 + 303, 60 + 233);

  surface = render_canvas (fixture->canvas);
  for (int y = 0; y < CANVAS_HEIGHT; y++)
    for (int x = 0; x < CANVAS_WIDTH; x++)
      {
        double ix, iy;
        KpRect box = { 300, 230, 10, 6 };

        kp_view_widget_to_image (view, x + 0.5, y + 0.5, &ix, &iy);
        /* Inside the box's outline band its colour wins; skip it. */
        if (ix >= box.x - 1 && ix < box.x + box.width + 1 && iy >= box.y - 1 && iy < box.y + box.height + 1)
          continue;
        if (surface_pixel (surface, x, y) != image_pixel (fixture, (int)ix, (int)iy))
          mismatches++;
      }
  g_assert_cmpuint (mismatches, ==, 0);

  /* The outline is 2 px wide on whole pixels. */
  kp_test_assert_matches_reference (surface, "canvas-zoom4.png");
  cairo_surface_destroy (surface);
}

static void
test_brightness_contrast (Fixture       *fixture,
                          gconstpointer  data)
{
  cairo_surface_t *plain, *adjusted;
  guint notifies = 0;
  guint32 before, after;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  add_box (fixture, fixture->person_id, 40, 40, 100, 80);
  plain = render_canvas (fixture->canvas);

  g_signal_connect (fixture->canvas, "notify::brightness", G_CALLBACK (count_notify_cb), &notifies);
  g_object_set (fixture->canvas, "brightness", 0.1, "contrast", 1.5, NULL);
  g_assert_cmpfloat (kp_canvas_get_brightness (fixture->canvas), ==, 0.1);
  g_assert_cmpfloat (kp_canvas_get_contrast (fixture->canvas), ==, 1.5);
  kp_canvas_set_brightness (fixture->canvas, 0.1);
  g_assert_cmpuint (notifies, ==, 1);

  adjusted = render_canvas (fixture->canvas);
  kp_test_assert_matches_reference (adjusted, "canvas-adjusted.png");

  /* A flat area of the image: (c - 0.5) * 1.5 + 0.5 + 0.1 per channel. */
  before = surface_pixel (plain, 80 + 600, 60 + 50);
  after = surface_pixel (adjusted, 80 + 600, 60 + 50);
  for (int shift = 0; shift <= 16; shift += 8)
    {
      double c = channel (before, shift) / 255.0;
      double expected = CLAMP ((c - 0.5) * 1.5 + 0.6, 0, 1) * 255;

      g_assert_cmpfloat (fabs (channel (after, shift) - expected), <=, 2);
    }

  /* The boxes are not adjusted, only the image. */
  g_assert_cmpuint (surface_pixel (plain, 80 + 40, 60 + 60), ==, surface_pixel (adjusted, 80 + 40, 60 + 60));

  cairo_surface_destroy (plain);
  cairo_surface_destroy (adjusted);
}

static void
test_gamma (Fixture       *fixture,
            gconstpointer  data)
{
  cairo_surface_t *surface;
  gint64 deadline;
  guint32 pixel, source;

  g_assert_true (_kp_canvas_get_display_texture (fixture->canvas) == fixture->texture);
  kp_canvas_set_gamma (fixture->canvas, 2.0);

  /* The table is applied in a worker; the image is replaced when done. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (_kp_canvas_get_display_texture (fixture->canvas) == fixture->texture &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (_kp_canvas_get_display_texture (fixture->canvas) != fixture->texture);

  surface = render_canvas (fixture->canvas);
  pixel = surface_pixel (surface, 80 + 100, 60 + 100);
  source = image_pixel (fixture, 100, 100);
  for (int shift = 0; shift <= 16; shift += 8)
    {
      double expected = pow (channel (source, shift) / 255.0, 1 / 2.0) * 255;

      g_assert_cmpfloat (fabs (channel (pixel, shift) - expected), <=, 1);
    }
  cairo_surface_destroy (surface);

  kp_canvas_set_gamma (fixture->canvas, 1.0);
  g_assert_true (_kp_canvas_get_display_texture (fixture->canvas) == fixture->texture);
}

static GtkEventController *
find_controller (GtkWidget *widget,
                 GType      type,
                 guint      button)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (controller, type) &&
          (button == 0 || gtk_gesture_single_get_button (GTK_GESTURE_SINGLE (controller)) == button))
        return controller;
    }

  g_assert_not_reached ();
  return NULL;
}

static void
assert_anchored (const KpView *view,
                 double        image_x,
                 double        image_y,
                 double        widget_x,
                 double        widget_y)
{
  double wx, wy;

  /* Within half a device pixel: the view's origin is snapped to one. */
  kp_view_image_to_widget (view, image_x, image_y, &wx, &wy);
  g_assert_cmpfloat_with_epsilon (wx, widget_x, 0.5);
  g_assert_cmpfloat_with_epsilon (wy, widget_y, 0.5);
  g_assert_cmpfloat (view->offset_x, ==, round (view->offset_x));
  g_assert_cmpfloat (view->offset_y, ==, round (view->offset_y));
}

static void
test_view (Fixture       *fixture,
           gconstpointer  data)
{
  GtkWidget *canvas = GTK_WIDGET (fixture->canvas);
  const KpView *view = kp_canvas_get_view (fixture->canvas);
  GtkEventController *controller;
  gboolean handled = FALSE;
  double ix, iy;
  KpView start;
  gint64 id;

  /* Zoom at a point keeps the image point under it. */
  kp_view_widget_to_image (view, 430, 310, &ix, &iy);
  kp_canvas_zoom_at (fixture->canvas, 3.0, 430, 310);
  g_assert_cmpfloat (view->scale, ==, 3.0);
  assert_anchored (view, ix, iy, 430, 310);
  g_assert_false (kp_canvas_get_fit (fixture->canvas));

  /* So does the zoom-in key, at the pointer. */
  controller = find_controller (canvas, GTK_TYPE_EVENT_CONTROLLER_MOTION, 0);
  g_signal_emit_by_name (controller, "motion", 250.0, 200.0);
  kp_view_widget_to_image (view, 250, 200, &ix, &iy);
  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-in", NULL));
  g_assert_cmpfloat (view->scale, >, 3.0);
  assert_anchored (view, ix, iy, 250, 200);
  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-out", NULL));
  assert_anchored (view, ix, iy, 250, 200);

  /* A wheel notch down pans the image up by 64 px. */
  start = *view;
  controller = find_controller (canvas, GTK_TYPE_EVENT_CONTROLLER_SCROLL, 0);
  g_signal_emit_by_name (controller, "scroll", 0.0, 1.0, &handled);
  g_assert_true (handled);
  g_assert_cmpfloat (view->offset_x, ==, start.offset_x);
  g_assert_cmpfloat (view->offset_y, ==, start.offset_y - 64);

  /* A middle-button drag moves the image with the pointer. */
  start = *view;
  controller = find_controller (canvas, GTK_TYPE_GESTURE_DRAG, GDK_BUTTON_MIDDLE);
  g_signal_emit_by_name (controller, "drag-begin", 100.0, 100.0);
  g_signal_emit_by_name (controller, "drag-update", 30.0, -20.0);
  g_assert_cmpfloat (view->offset_x, ==, start.offset_x + 30);
  g_assert_cmpfloat (view->offset_y, ==, start.offset_y - 20);
  g_signal_emit_by_name (controller, "drag-end", 40.0, -25.0);

  /* A touchpad flick keeps panning, slowing down, by at most the
   * speed times the friction's time constant. */
  start = *view;
  controller = find_controller (canvas, GTK_TYPE_EVENT_CONTROLLER_SCROLL, 0);
  g_signal_emit_by_name (controller, "decelerate", 0.0, 1.0);
  {
    gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

    while (g_get_monotonic_time () < deadline)
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (1000);
      }
  }
  g_assert_cmpfloat (view->offset_x, ==, start.offset_x);
  g_assert_cmpfloat (view->offset_y, <, start.offset_y - 50);
  g_assert_cmpfloat (view->offset_y, >=, start.offset_y - 1000 * 0.12 / G_LN2 - 1);
  start = *view;

  kp_canvas_pan_by (fixture->canvas, -15, 10);
  g_assert_cmpfloat (view->offset_x, ==, start.offset_x - 15);
  g_assert_cmpfloat (view->offset_y, ==, start.offset_y + 10);

  /* Panning stops at the image's edge. */
  kp_canvas_pan_by (fixture->canvas, 1e6, 1e6);
  g_assert_cmpfloat (view->offset_x, ==, 0);
  g_assert_cmpfloat (view->offset_y, ==, 0);

  /* Zoom to selection: the box fills the view, centred. */
  g_assert_false (kp_canvas_zoom_to_selection (fixture->canvas));
  g_assert_false (gtk_widget_activate_action (canvas, "canvas.zoom-selection", NULL) &&
                  kp_canvas_get_selected_id (fixture->canvas) != 0);
  id = add_box (fixture, fixture->car_id, 200, 100, 80, 40);
  kp_canvas_set_selected_id (fixture->canvas, id);
  g_assert_true (gtk_widget_activate_action (canvas, "canvas.zoom-selection", NULL));
  g_assert_cmpfloat_with_epsilon (view->scale, CANVAS_WIDTH * 0.8 / 80, 1e-9);
  assert_anchored (view, 240, 120, CANVAS_WIDTH / 2.0, CANVAS_HEIGHT / 2.0);

  kp_canvas_zoom_100 (fixture->canvas);
  g_assert_cmpfloat (view->scale, ==, 1.0);
  kp_canvas_zoom_fit (fixture->canvas);
  g_assert_true (kp_canvas_get_fit (fixture->canvas));
  g_assert_cmpfloat (view->offset_x, ==, 80);
}

/* Picking against a brute-force search on 10,000 overlapping boxes: the
 * topmost (last drawn) box containing the point wins. */
static gint64
brute_pick (Fixture *fixture,
            double   x,
            double   y)
{
  GPtrArray *annotations = kp_document_get_annotations (fixture->document);

  for (guint i = annotations->len; i > 0; i--)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i - 1);

      if (kp_rect_contains (&annotation->rect, x, y))
        return annotation->id;
    }

  return 0;
}

static void
check_picks (Fixture *fixture,
             GRand   *rand,
             guint    n)
{
  guint hits = 0;

  for (guint i = 0; i < n; i++)
    {
      double x = g_rand_double_range (rand, -5, IMAGE_WIDTH + 5);
      double y = g_rand_double_range (rand, -5, IMAGE_HEIGHT + 5);
      gint64 expected = brute_pick (fixture, x, y);

      g_assert_cmpint (_kp_canvas_pick (fixture->canvas, x, y), ==, expected);
      hits += expected != 0;
    }

  /* The points must exercise overlaps, not empty space. */
  g_assert_cmpuint (hits, >, n / 2);
}

static void
test_pick (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1234);
  g_autoptr(GError) error = NULL;
  GPtrArray *annotations = kp_document_get_annotations (fixture->document);
  gint64 middle;
  KpRect rect;

  for (guint i = 0; i < 10000; i++)
    {
      double width = g_rand_double_range (rand, 1, 60);
      double height = g_rand_double_range (rand, 1, 60);

      add_box (fixture, i % 2 ? fixture->car_id : fixture->person_id,
               g_rand_double_range (rand, 0, IMAGE_WIDTH - width),
               g_rand_double_range (rand, 0, IMAGE_HEIGHT - height),
               width, height);
    }
  check_picks (fixture, rand, 5000);

  /* Remove one from the middle of the drawing order, then undo: it comes
   * back in its place, and everything above it moved twice. */
  middle = ((const KpAnnotation *)g_ptr_array_index (annotations, 5000))->id;
  g_assert_true (kp_document_remove (fixture->document, middle, &error));
  g_assert_no_error (error);
  check_picks (fixture, rand, 2000);
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_cmpint (((const KpAnnotation *)g_ptr_array_index (annotations, 5000))->id, ==, middle);

  /* Move a low box to the middle of the image. */
  rect = ((const KpAnnotation *)g_ptr_array_index (annotations, 3))->rect;
  rect.x = IMAGE_WIDTH / 2.0;
  rect.y = IMAGE_HEIGHT / 2.0;
  g_assert_true (kp_document_set_rect (fixture->document,
                                       ((const KpAnnotation *)g_ptr_array_index (annotations, 3))->id,
                                       &rect, &error));
  g_assert_no_error (error);
  check_picks (fixture, rand, 2000);
}

/* The cached layer after edits must equal a layer drawn from scratch. */
static void
assert_same_as_fresh (Fixture         *fixture,
                      cairo_surface_t *incremental)
{
  gint64 selected = kp_canvas_get_selected_id (fixture->canvas);
  cairo_surface_t *fresh;

  /* A new document on the canvas drops every cached tile. */
  kp_canvas_set_document (fixture->canvas, NULL);
  kp_canvas_set_document (fixture->canvas, fixture->document);
  kp_canvas_set_selected_id (fixture->canvas, selected);
  fresh = render_canvas (fixture->canvas);
  g_assert_cmpfloat (kp_test_compare_surfaces (incremental, fresh), ==, 0);
  cairo_surface_destroy (fresh);
}

static void
run_incremental (Fixture *fixture,
                 guint    n_boxes,
                 double   zoom)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  g_autoptr(GError) error = NULL;
  GPtrArray *annotations = kp_document_get_annotations (fixture->document);
  cairo_surface_t *before, *after;
  gint64 ids[4];
  KpRect rect;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  for (guint i = 0; i < n_boxes; i++)
    {
      /* Dense in the top-left (texture tiles), sparse elsewhere (nodes). */
      double limit = i % 3 ? 200 : IMAGE_WIDTH - 60;

      add_box (fixture, i % 2 ? fixture->car_id : fixture->person_id,
               g_rand_int_range (rand, 0, limit), g_rand_int_range (rand, 0, MIN (limit, IMAGE_HEIGHT - 60)),
               g_rand_int_range (rand, 4, 60), g_rand_int_range (rand, 4, 60));
    }
  kp_canvas_set_zoom (fixture->canvas, zoom);
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    ids[i] = ((const KpAnnotation *)g_ptr_array_index (annotations, i * (n_boxes / 4)))->id;

  before = render_canvas (fixture->canvas);
  assert_same_as_fresh (fixture, before);

  /* Move, resize, relabel, delete, add, undo, select. */
  rect = kp_document_lookup (fixture->document, ids[0])->rect;
  rect.x += 37;
  rect.y += 11;
  g_assert_true (kp_document_set_rect (fixture->document, ids[0], &rect, &error));
  rect = kp_document_lookup (fixture->document, ids[1])->rect;
  rect.width += 25;
  g_assert_true (kp_document_set_rect (fixture->document, ids[1], &rect, &error));
  g_assert_true (kp_document_set_label (fixture->document, ids[2], fixture->car_id, &error));
  g_assert_true (kp_document_remove (fixture->document, ids[3], &error));
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_true (kp_document_remove (fixture->document, ids[3], &error));
  g_assert_no_error (error);
  add_box (fixture, fixture->person_id, 150, 120, 70, 50);
  kp_canvas_set_selected_id (fixture->canvas, ids[1]);

  after = render_canvas (fixture->canvas);
  g_assert_cmpfloat (kp_test_compare_surfaces (before, after), >, 0);
  assert_same_as_fresh (fixture, after);
  cairo_surface_destroy (after);

  /* A move in progress: the box leaves its tile for the overlay. */
  rect = kp_document_lookup (fixture->document, ids[1])->rect;
  kp_canvas_tool_press (fixture->canvas, rect.x + rect.width / 2, rect.y + rect.height / 2, 0);
  kp_canvas_tool_motion (fixture->canvas, rect.x + rect.width / 2 + 30, rect.y + rect.height / 2 + 20, 0);
  after = render_canvas (fixture->canvas);
  kp_canvas_tool_release (fixture->canvas, rect.x + rect.width / 2 + 30, rect.y + rect.height / 2 + 20, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), !=, 0);
  cairo_surface_destroy (after);
  after = render_canvas (fixture->canvas);
  assert_same_as_fresh (fixture, after);
  cairo_surface_destroy (after);

  /* Panning reuses the tiles, translated. */
  kp_canvas_pan_by (fixture->canvas, -33, -21);
  after = render_canvas (fixture->canvas);
  assert_same_as_fresh (fixture, after);

  cairo_surface_destroy (after);
  cairo_surface_destroy (before);
}

static void
test_incremental_dense (Fixture       *fixture,
                        gconstpointer  data)
{
  run_incremental (fixture, 1200, 1.0);
}

static void
test_incremental_sparse (Fixture       *fixture,
                         gconstpointer  data)
{
  run_incremental (fixture, 40, 1.5);
}

/* HiDPI: under GDK_SCALE=2 (in a subprocess) the layer has device pixels. */
static cairo_surface_t *
render_canvas_scaled (KpCanvas *canvas,
                      int       scale)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  GtkSnapshot *snapshot;
  cairo_surface_t *surface;
  cairo_t *cr;

  kp_test_wait_for_frame (GTK_WIDGET (canvas));
  paintable = gtk_widget_paintable_new (GTK_WIDGET (canvas));
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, CANVAS_WIDTH, CANVAS_HEIGHT);
  node = gtk_snapshot_free_to_node (snapshot);

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, CANVAS_WIDTH * scale, CANVAS_HEIGHT * scale);
  cairo_surface_set_device_scale (surface, scale, scale);
  cr = cairo_create (surface);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  return surface;
}

static void
test_hidpi_child (Fixture       *fixture,
                  gconstpointer  data)
{
  const KpView *view = kp_canvas_get_view (fixture->canvas);
  cairo_surface_t *surface;
  double wx, wy;
  int x0, y0;

  g_assert_cmpint (gtk_widget_get_scale_factor (GTK_WIDGET (fixture->canvas)), ==, 2);

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  /* Enough boxes in one tile for it to become a texture. */
  for (guint i = 0; i < 60; i++)
    add_box (fixture, fixture->person_id, 20 + i, 20 + i, 3, 3);
  add_box (fixture, fixture->car_id, 300.25, 230.5, 10, 6);
  kp_canvas_zoom_at (fixture->canvas, 8.0, 400, 300);

  surface = render_canvas_scaled (fixture->canvas, 2);

  /* The box's left edge: 2 widget px = 4 device px of solid red, exactly
   * on device pixels, then the image. */
  kp_view_image_to_widget (view, 300.25, 230.5, &wx, &wy);
  x0 = (int)round (wx * 2);
  y0 = (int)round (wy * 2) + 20;
  for (int i = 0; i < 4; i++)
    g_assert_cmphex (surface_pixel (surface, x0 + i, y0), ==, 0xffe01b24);
  g_assert_cmphex (surface_pixel (surface, x0 - 1, y0), !=, 0xffe01b24);
  g_assert_cmphex (surface_pixel (surface, x0 + 4, y0), !=, 0xffe01b24);

  /* Image pixels are 16x16 device px squares. */
  kp_view_image_to_widget (view, 310, 240, &wx, &wy);
  x0 = (int)round (wx * 2);
  y0 = (int)round (wy * 2);
  for (int y = 0; y < 16; y++)
    for (int x = 0; x < 16; x++)
      g_assert_cmphex (surface_pixel (surface, x0 + x, y0 + y), ==, image_pixel (fixture, 310, 240));

  /* The dense tile is a texture at device resolution: a 3x3 box at 8x is
   * 24 widget px, its 2 px outline 4 device px. */
  kp_canvas_zoom_at (fixture->canvas, 1.0, 400, 300);
  cairo_surface_destroy (surface);
  surface = render_canvas_scaled (fixture->canvas, 2);
  kp_view_image_to_widget (view, 80, 80, &wx, &wy);
  x0 = (int)round (wx * 2);
  y0 = (int)round (wy * 2) + 2;
  for (int i = 0; i < 4; i++)
    g_assert_cmphex (surface_pixel (surface, x0 + i, y0), ==, 0xff2ec27e);

  cairo_surface_destroy (surface);
}

static void
test_hidpi (Fixture       *fixture,
            gconstpointer  data)
{
  if (g_test_subprocess ())
    {
      test_hidpi_child (fixture, data);
      return;
    }

  /* The same test again in a process whose display has scale 2. */
  g_setenv ("GDK_SCALE", "2", TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv ("GDK_SCALE");
  g_test_trap_assert_passed ();
}

/* Every shape (session 4) */

static gint64
add_shape (Fixture      *fixture,
           KpAnnotation *annotation)
{
  g_autoptr(GError) error = NULL;
  gint64 id;

  if (annotation->label_id == 0)
    annotation->label_id = fixture->car_id;
  id = kp_document_add_annotation (fixture->document, annotation, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  kp_annotation_clear (annotation);

  return id;
}

static gint64
add_points (Fixture       *fixture,
            KpShape        shape,
            const KpPoint *points,
            guint          n_points)
{
  KpAnnotation annotation = { 0 };

  annotation.shape = shape;
  kp_annotation_set_points (&annotation, points, n_points);
  return add_shape (fixture, &annotation);
}

typedef enum
{
  LOOK_IMAGE,                   /* the image as it is */
  LOOK_TINT,                    /* a translucent fill of the car colour */
  LOOK_STROKE,                  /* the car colour, opaque or nearly */
} Look;

/* What the canvas shows at image pixel (x, y) at the fixture's view
 * (100 %, image origin at widget (80, 60)). */
static Look
look_at (Fixture         *fixture,
         cairo_surface_t *surface,
         int              x,
         int              y)
{
  guint32 shown = surface_pixel (surface, x + 80, y + 60);
  guint32 image = image_pixel (fixture, x, y);
  int dr = channel (shown, 16) - channel (image, 16);
  int dg = channel (shown, 8) - channel (image, 8);
  int db = channel (shown, 0) - channel (image, 0);

  if (ABS (dr) <= 3 && ABS (dg) <= 3 && ABS (db) <= 3)
    return LOOK_IMAGE;
  /* The car colour is #e01b24. */
  if (channel (shown, 16) >= 170 && channel (shown, 8) <= 90 && channel (shown, 0) <= 90)
    return LOOK_STROKE;
  if (dr > 3 && dg < -3)
    return LOOK_TINT;

  g_test_message ("pixel %d,%d: shown %08x, image %08x", x, y, shown, image);
  return -1;
}

#define assert_look(f, s, x, y, look) g_assert_cmpint (look_at ((f), (s), (x), (y)), ==, (look))

static void
test_shape_polygon (Fixture       *fixture,
                    gconstpointer  data)
{
  KpPoint triangle[] = { { 100, 40 }, { 220, 40 }, { 160, 160 } };
  cairo_surface_t *surface;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  add_points (fixture, KP_SHAPE_POLYGON, triangle, G_N_ELEMENTS (triangle));

  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 160, 90, LOOK_TINT);       /* inside */
  assert_look (fixture, surface, 160, 40, LOOK_STROKE);     /* on the top edge */
  assert_look (fixture, surface, 110, 120, LOOK_IMAGE);     /* in the bounds, outside */
  assert_look (fixture, surface, 300, 100, LOOK_IMAGE);
  cairo_surface_destroy (surface);
}

static void
test_shape_rotated_box (Fixture       *fixture,
                        gconstpointer  data)
{
  KpAnnotation annotation = { 0 };
  cairo_surface_t *surface;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  annotation.shape = KP_SHAPE_ROTATED_BOX;
  annotation.rotated = (KpRotatedBox) { 450, 370, 140, 40, G_PI / 4 };
  kp_annotation_update_bounds (&annotation);
  add_shape (fixture, &annotation);

  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 450, 370, LOOK_TINT);
  /* Corners of the bounds are outside the rotated box. */
  assert_look (fixture, surface, 395, 315, LOOK_IMAGE);
  assert_look (fixture, surface, 505, 425, LOOK_IMAGE);
  /* (cx + 70 cos 45°, cy + 70 sin 45°) is the middle of a short side. */
  assert_look (fixture, surface, 450 + 49, 370 + 49, LOOK_STROKE);
  cairo_surface_destroy (surface);
}

static void
test_shape_lines (Fixture       *fixture,
                  gconstpointer  data)
{
  KpPoint line[] = { { 40, 320 }, { 260, 320 } };
  KpPoint polyline[] = { { 40, 360 }, { 150, 360 }, { 150, 440 } };
  cairo_surface_t *surface;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  add_points (fixture, KP_SHAPE_LINE, line, 2);
  add_points (fixture, KP_SHAPE_POLYLINE, polyline, 3);

  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 150, 320, LOOK_STROKE);
  assert_look (fixture, surface, 150, 326, LOOK_IMAGE);
  assert_look (fixture, surface, 100, 360, LOOK_STROKE);
  assert_look (fixture, surface, 150, 400, LOOK_STROKE);
  /* An open polyline is neither closed nor filled. */
  assert_look (fixture, surface, 100, 400, LOOK_IMAGE);
  assert_look (fixture, surface, 95, 400, LOOK_IMAGE);
  cairo_surface_destroy (surface);
}

static void
test_shape_points (Fixture       *fixture,
                   gconstpointer  data)
{
  KpPoint point = { 400, 350 };
  KpPoint occluded_point = { 500, 350 };
  KpAnnotation annotation = { 0 };
  cairo_surface_t *with, *without;

  add_points (fixture, KP_SHAPE_POINT, &point, 1);
  annotation.shape = KP_SHAPE_POINT;
  annotation.occluded = TRUE;
  annotation.keypoint = g_strdup ("left-elbow");
  kp_annotation_set_points (&annotation, &occluded_point, 1);
  add_shape (fixture, &annotation);

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  without = render_canvas (fixture->canvas);
  /* A dot, a gap, a ring. */
  assert_look (fixture, without, 400, 350, LOOK_STROKE);
  assert_look (fixture, without, 405, 350, LOOK_IMAGE);
  assert_look (fixture, without, 407, 350, LOOK_STROKE);
  assert_look (fixture, without, 420, 350, LOOK_IMAGE);
  /* Occluded: hollow. */
  assert_look (fixture, without, 500, 350, LOOK_IMAGE);
  assert_look (fixture, without, 507, 350, LOOK_STROKE);

  /* Points get a caption, however small they are. */
  kp_canvas_set_show_captions (fixture->canvas, TRUE);
  with = render_canvas (fixture->canvas);
  g_assert_cmpint (look_at (fixture, with, 420, 340), !=, LOOK_IMAGE);
  cairo_surface_destroy (with);
  cairo_surface_destroy (without);
}

static void
test_shape_mask (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree guint8 *bits = g_new0 (guint8, 40 * 30);
  KpAnnotation annotation = { 0 };
  cairo_surface_t *surface;

  /* A 40x30 block with a 10x10 hole. */
  for (int y = 0; y < 30; y++)
    for (int x = 0; x < 40; x++)
      bits[y * 40 + x] = !(x >= 15 && x < 25 && y >= 10 && y < 20);

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  annotation.shape = KP_SHAPE_MASK;
  annotation.mask = kp_mask_new_from_bitmap (500, 380, 40, 30, bits);
  kp_annotation_update_bounds (&annotation);
  add_shape (fixture, &annotation);

  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 502, 382, LOOK_TINT);
  assert_look (fixture, surface, 537, 407, LOOK_TINT);
  assert_look (fixture, surface, 520, 395, LOOK_IMAGE);     /* the hole */
  assert_look (fixture, surface, 545, 395, LOOK_IMAGE);     /* beside it */
  assert_look (fixture, surface, 520, 411, LOOK_IMAGE);     /* below it */
  cairo_surface_destroy (surface);
}

/* Zoomed out, a mask is decoded at the view's detail: a quarter of the
 * zoom, a sixteenth of the memory, and it still shows where it is. */
static void
test_shape_mask_zoomed_out (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autofree guint8 *bits = g_new0 (guint8, 400 * 300);
  KpAnnotation annotation = { 0 };
  cairo_surface_t *with, *without;
  const KpView *view;
  gsize full;
  gint64 id;

  /* A 400x300 block at 100,100 with a 200x100 hole at 200,200. */
  for (int y = 0; y < 300; y++)
    for (int x = 0; x < 400; x++)
      bits[y * 400 + x] = !(x >= 100 && x < 300 && y >= 100 && y < 200);

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  annotation.shape = KP_SHAPE_MASK;
  annotation.mask = kp_mask_new_from_bitmap (100, 100, 400, 300, bits);
  kp_annotation_update_bounds (&annotation);
  id = add_shape (fixture, &annotation);

  with = render_canvas (fixture->canvas);
  cairo_surface_destroy (with);
  full = _kp_canvas_get_mask_bytes (fixture->canvas);
  g_assert_cmpuint (full, >=, 400 * 300);

  kp_canvas_set_zoom (fixture->canvas, 0.25);
  with = render_canvas (fixture->canvas);
  g_assert_cmpuint (_kp_canvas_get_mask_bytes (fixture->canvas), >, 0);
  g_assert_cmpuint (_kp_canvas_get_mask_bytes (fixture->canvas), <=, full / 10);

  g_assert_true (kp_document_remove (fixture->document, id, NULL));
  without = render_canvas (fixture->canvas);
  view = kp_canvas_get_view (fixture->canvas);
  g_assert_cmpfloat (view->scale, ==, 0.25);

#define AT(surface, ix, iy) \
  surface_pixel ((surface), (int)((ix) * view->scale + view->offset_x), (int)((iy) * view->scale + view->offset_y))
  /* Tinted in the block, not in its hole nor beside it. */
  g_assert_cmpuint (AT (with, 140, 140), !=, AT (without, 140, 140));
  g_assert_cmpuint (AT (with, 460, 360), !=, AT (without, 460, 360));
  g_assert_cmpuint (AT (with, 300, 250), ==, AT (without, 300, 250));
  g_assert_cmpuint (AT (with, 560, 150), ==, AT (without, 560, 150));
  g_assert_cmpuint (AT (with, 300, 440), ==, AT (without, 300, 440));
#undef AT
  cairo_surface_destroy (with);
  cairo_surface_destroy (without);
}

static void
test_hidden_and_pending (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KpAnnotation annotation = { 0 };
  cairo_surface_t *surface;
  guint n_stroke = 0, n_image = 0;
  int min_green = 255;
  gint64 hidden;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  hidden = add_box (fixture, fixture->car_id, 40, 40, 100, 80);
  g_assert_true (kp_document_set_flags (fixture->document, &hidden, 1, KP_ANNOTATION_HIDDEN, TRUE, &error));
  g_assert_no_error (error);

  annotation.shape = KP_SHAPE_BOX;
  annotation.rect = (KpRect) { 360, 300, 200, 100 };
  annotation.review = KP_REVIEW_PENDING;
  annotation.confidence = 0.87;
  add_shape (fixture, &annotation);

  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 40, 40, LOOK_IMAGE);
  assert_look (fixture, surface, 90, 80, LOOK_IMAGE);
  assert_look (fixture, surface, 90, 40, LOOK_IMAGE);

  /* A suggestion's outline is dashed: along its top edge, gaps and
   * dashes (n_image counts the gaps); and lighter: nowhere the full car colour (green 0x1b). */
  for (int x = 370; x < 550; x++)
    {
      Look look = look_at (fixture, surface, x, 300);

      /* The gaps show the fill. */
      if (look == LOOK_TINT)
        n_image++;
      else
        {
          n_stroke++;
          min_green = MIN (min_green, channel (surface_pixel (surface, 80 + x, 60 + 300), 8));
        }
    }
  g_assert_cmpuint (n_image, >, 30);
  g_assert_cmpuint (n_stroke, >, 60);
  g_assert_cmpint (min_green, >, 0x1b + 20);
  assert_look (fixture, surface, 460, 350, LOOK_TINT);

  /* Hidden objects are not picked either. */
  g_assert_cmpint (_kp_canvas_pick (fixture->canvas, 90, 80), ==, 0);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 90, 80, 0), ==, 0);
  cairo_surface_destroy (surface);
}

/* The selection set */

static void
count_cb (gpointer  object,
          guint    *count)
{
  (*count)++;
}

static void
test_selection_set (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 a = add_box (fixture, fixture->car_id, 10, 10, 50, 50);
  gint64 b = add_box (fixture, fixture->car_id, 100, 10, 50, 50);
  gint64 c = add_box (fixture, fixture->person_id, 200, 10, 50, 50);
  gint64 d = add_box (fixture, fixture->person_id, 300, 10, 50, 50);
  gint64 wanted[] = { c, 999999, a, c, d };
  const gint64 *ids;
  guint n = 0, n_changed = 0, n_notify = 0;

  g_signal_connect (fixture->canvas, "selection-changed", G_CALLBACK (count_cb), &n_changed);
  g_signal_connect (fixture->canvas, "notify::selected-id", G_CALLBACK (count_notify_cb), &n_notify);

  g_assert_true (kp_document_set_flags (fixture->document, &d, 1, KP_ANNOTATION_HIDDEN, TRUE, &error));
  g_assert_no_error (error);

  /* Unknown, repeated and hidden ids are left out; the order is kept. */
  kp_canvas_set_selection (fixture->canvas, wanted, G_N_ELEMENTS (wanted));
  ids = kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpint (ids[0], ==, c);
  g_assert_cmpint (ids[1], ==, a);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
  g_assert_true (kp_canvas_is_selected (fixture->canvas, c));
  g_assert_false (kp_canvas_is_selected (fixture->canvas, b));
  g_assert_false (kp_canvas_is_selected (fixture->canvas, d));
  g_assert_cmpuint (n_changed, ==, 1);
  g_assert_cmpuint (n_notify, ==, 1);

  /* The same set again changes nothing. */
  kp_canvas_set_selection (fixture->canvas, (gint64[]) { c, a }, 2);
  g_assert_cmpuint (n_changed, ==, 1);

  /* Selecting from outside does not move the view. */
  g_assert_true (kp_canvas_get_fit (fixture->canvas));

  /* An object leaving the document leaves the selection. */
  g_assert_true (kp_document_remove (fixture->document, a, &error));
  g_assert_no_error (error);
  ids = kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (ids[0], ==, c);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, c);
  g_assert_cmpuint (n_changed, ==, 2);
  g_assert_cmpuint (n_notify, ==, 2);

  /* So does one that is hidden. */
  g_assert_true (kp_document_set_flags (fixture->document, &c, 1, KP_ANNOTATION_HIDDEN, TRUE, &error));
  g_assert_no_error (error);
  kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);

  /* selected-id is a selection of one. */
  kp_canvas_set_selected_id (fixture->canvas, b);
  ids = kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (ids[0], ==, b);
  kp_canvas_set_selected_id (fixture->canvas, 0);
  kp_canvas_get_selection (fixture->canvas, &n);
  g_assert_cmpuint (n, ==, 0);
}

static void
test_selection_drawn (Fixture       *fixture,
                      gconstpointer  data)
{
  KpPoint square[] = { { 100, 40 }, { 200, 40 }, { 200, 140 }, { 100, 140 } };
  cairo_surface_t *plain, *selected;
  gint64 id;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  id = add_points (fixture, KP_SHAPE_POLYGON, square, 4);
  plain = render_canvas (fixture->canvas);
  kp_canvas_set_selection (fixture->canvas, &id, 1);
  selected = render_canvas (fixture->canvas);

  /* A thicker outline and a stronger fill. */
  assert_look (fixture, plain, 100, 90, LOOK_STROKE);
  assert_look (fixture, plain, 102, 90, LOOK_TINT);
  assert_look (fixture, selected, 101, 90, LOOK_STROKE);
  g_assert_cmpint (channel (surface_pixel (selected, 80 + 150, 60 + 90), 16), >,
                   channel (surface_pixel (plain, 80 + 150, 60 + 90), 16) + 5);
  cairo_surface_destroy (plain);
  cairo_surface_destroy (selected);
}

static void
test_pick_shape (Fixture       *fixture,
                 gconstpointer  data)
{
  KpPoint line[] = { { 100, 100 }, { 300, 100 } };
  KpPoint point = { 400, 400 };
  gint64 line_id = add_points (fixture, KP_SHAPE_LINE, line, 2);
  gint64 point_id = add_points (fixture, KP_SHAPE_POINT, &point, 1);
  gint64 under = add_box (fixture, fixture->car_id, 380, 380, 60, 60);

  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 200, 103, 5), ==, line_id);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 200, 97, 5), ==, line_id);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 200, 110, 5), ==, 0);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 200, 103, 2), ==, 0);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 310, 100, 5), ==, 0);

  /* The box was drawn last, so it is on top of the point. */
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 403, 400, 5), ==, under);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 350, 400, 5), ==, 0);
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (kp_document_set_flags (fixture->document, &under, 1, KP_ANNOTATION_HIDDEN, TRUE, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 403, 400, 5), ==, point_id);
  g_assert_cmpint (_kp_canvas_pick_shape (fixture->canvas, 410, 400, 5), ==, 0);
}

static void
test_query_rect (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 a = add_box (fixture, fixture->car_id, 10, 10, 50, 50);
  gint64 b = add_box (fixture, fixture->car_id, 40, 40, 100, 100);
  gint64 c = add_box (fixture, fixture->car_id, 300, 300, 20, 20);
  gint64 d = add_box (fixture, fixture->car_id, 20, 20, 10, 10);
  KpRect rect = { 0, 0, 70, 70 };

  g_assert_true (kp_document_set_flags (fixture->document, &d, 1, KP_ANNOTATION_HIDDEN, TRUE, &error));
  g_assert_no_error (error);

  _kp_canvas_query_rect (fixture->canvas, &rect, FALSE, ids);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, a);
  g_assert_cmpint (g_array_index (ids, gint64, 1), ==, b);

  g_array_set_size (ids, 0);
  _kp_canvas_query_rect (fixture->canvas, &rect, TRUE, ids);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, a);

  g_array_set_size (ids, 0);
  rect = (KpRect) { 0, 0, 640, 480 };
  _kp_canvas_query_rect (fixture->canvas, &rect, TRUE, ids);
  g_assert_cmpuint (ids->len, ==, 3);
  g_assert_cmpint (g_array_index (ids, gint64, 2), ==, c);
}

static void
test_delete_selection (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 ids[4];
  guint n_undo;

  for (guint i = 0; i < 4; i++)
    ids[i] = add_box (fixture, fixture->car_id, 10 + 100 * i, 10, 50, 50);
  kp_canvas_set_selection (fixture->canvas, ids, 3);
  n_undo = kp_document_get_n_undo (fixture->document);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "annotation.delete", NULL));
  g_assert_cmpuint (count_annotations (fixture), ==, 1);
  g_assert_nonnull (kp_document_lookup (fixture->document, ids[3]));
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo + 1);
  kp_canvas_get_selection (fixture->canvas, &n_undo);
  g_assert_cmpuint (n_undo, ==, 0);

  /* One undo brings all three back. */
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_annotations (fixture), ==, 4);
}

static void
test_cycle_visible (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 a = add_box (fixture, fixture->car_id, 10, 10, 50, 50);
  gint64 b = add_box (fixture, fixture->car_id, 100, 10, 50, 50);
  gint64 c = add_box (fixture, fixture->car_id, 200, 10, 50, 50);

  g_assert_true (kp_document_set_flags (fixture->document, &b, 1, KP_ANNOTATION_HIDDEN, TRUE, &error));
  g_assert_no_error (error);

  gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "annotation.next", NULL);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
  gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "annotation.next", NULL);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, c);
  gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "annotation.next", NULL);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, a);
  gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "annotation.previous", NULL);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, c);
}

static void
test_zoom_selection (Fixture       *fixture,
                     gconstpointer  data)
{
  gint64 ids[2];
  KpRect visible;

  ids[0] = add_box (fixture, fixture->car_id, 100, 100, 20, 20);
  ids[1] = add_box (fixture, fixture->car_id, 200, 150, 20, 20);
  kp_canvas_set_selection (fixture->canvas, ids, 2);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->canvas), "canvas.zoom-selection", NULL));
  visible = kp_view_visible_rect (kp_canvas_get_view (fixture->canvas), CANVAS_WIDTH, CANVAS_HEIGHT);
  /* Both boxes in view, and the view not much larger than their bounds. */
  g_assert_cmpfloat (visible.x, <=, 100);
  g_assert_cmpfloat (visible.y, <=, 100);
  g_assert_cmpfloat (visible.x + visible.width, >=, 220);
  g_assert_cmpfloat (visible.y + visible.height, >=, 170);
  g_assert_cmpfloat (visible.width, <, 200);
}

static void
test_crosshair (Fixture       *fixture,
                gconstpointer  data)
{
  GtkEventController *motion = find_controller (GTK_WIDGET (fixture->canvas),
                                                GTK_TYPE_EVENT_CONTROLLER_MOTION, 0);
  cairo_surface_t *surface;
  double x, y;

  g_assert_false (kp_canvas_get_show_crosshair (fixture->canvas));
  g_signal_emit_by_name (motion, "motion", 300.0, 200.0);
  g_assert_true (_kp_canvas_get_pointer (fixture->canvas, &x, &y));
  g_assert_cmpfloat (x, ==, 220);
  g_assert_cmpfloat (y, ==, 140);

  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 20, 140, LOOK_IMAGE);
  cairo_surface_destroy (surface);

  kp_canvas_set_show_crosshair (fixture->canvas, TRUE);
  surface = render_canvas (fixture->canvas);
  /* Across the whole image, through the pointer, one pixel wide. */
  g_assert_cmpint (look_at (fixture, surface, 20, 140), !=, LOOK_IMAGE);
  g_assert_cmpint (look_at (fixture, surface, 600, 140), !=, LOOK_IMAGE);
  g_assert_cmpint (look_at (fixture, surface, 220, 10), !=, LOOK_IMAGE);
  g_assert_cmpint (look_at (fixture, surface, 220, 470), !=, LOOK_IMAGE);
  assert_look (fixture, surface, 20, 142, LOOK_IMAGE);
  assert_look (fixture, surface, 222, 10, LOOK_IMAGE);
  /* Outside the image, nothing. */
  g_assert_cmpint (surface_pixel (surface, 10, 200), ==, surface_pixel (surface, 10, 150));
  cairo_surface_destroy (surface);

  g_signal_emit_by_name (motion, "leave");
  g_assert_false (_kp_canvas_get_pointer (fixture->canvas, NULL, NULL));
}

/* A tool whose gesture shows a polygon moved by 200 px, and a mark. */

#define TEST_TYPE_TOOL (test_tool_get_type ())
G_DECLARE_FINAL_TYPE (TestTool, test_tool, TEST, TOOL, KpTool)

struct _TestTool
{
  KpTool        parent_instance;
  KpAnnotation  preview;
  const KpAnnotation *previews[1];
  gboolean      active;
  guint         n_snapshots;
  guint         n_motions;
  double        motion_x;
  double        motion_y;
};

G_DEFINE_FINAL_TYPE (TestTool, test_tool, KP_TYPE_TOOL)

static const KpAnnotation * const *
test_tool_get_preview_annotations (KpTool *tool,
                                   guint  *n)
{
  TestTool *self = (TestTool *)tool;

  *n = self->active ? 1 : 0;
  return self->active ? self->previews : NULL;
}

static void
test_tool_snapshot (KpTool       *tool,
                    GtkSnapshot  *snapshot,
                    const KpView *view,
                    double        width,
                    double        height)
{
  TestTool *self = (TestTool *)tool;

  self->n_snapshots++;
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0, 0, 1, 1 }, &GRAPHENE_RECT_INIT (0, 0, 4, 4));
}

static void
test_tool_motion (KpTool          *tool,
                  double           x,
                  double           y,
                  GdkModifierType  state)
{
  TestTool *self = (TestTool *)tool;

  self->n_motions++;
  self->motion_x = x;
  self->motion_y = y;
}

static void
test_tool_finalize (GObject *object)
{
  kp_annotation_clear (&((TestTool *)object)->preview);
  G_OBJECT_CLASS (test_tool_parent_class)->finalize (object);
}

static void
test_tool_class_init (TestToolClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_tool_finalize;
  KP_TOOL_CLASS (klass)->get_preview_annotations = test_tool_get_preview_annotations;
  KP_TOOL_CLASS (klass)->snapshot = test_tool_snapshot;
  KP_TOOL_CLASS (klass)->motion = test_tool_motion;
}

static void
test_tool_init (TestTool *self)
{
  self->previews[0] = &self->preview;
}

static void
test_tool_preview (Fixture       *fixture,
                   gconstpointer  data)
{
  KpPoint square[] = { { 40, 40 }, { 140, 40 }, { 140, 140 }, { 40, 140 } };
  g_autoptr(TestTool) tool = NULL;
  cairo_surface_t *surface;
  gint64 id;
  guint n_tool = 0;

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  id = add_points (fixture, KP_SHAPE_POLYGON, square, 4);
  tool = g_object_new (TEST_TYPE_TOOL, "canvas", fixture->canvas, NULL);
  g_signal_connect (fixture->canvas, "notify::tool", G_CALLBACK (count_notify_cb), &n_tool);
  kp_canvas_set_tool (fixture->canvas, KP_TOOL (tool));
  g_assert_true (kp_canvas_get_tool (fixture->canvas) == KP_TOOL (tool));
  g_assert_cmpuint (n_tool, ==, 1);

  kp_annotation_copy_to (kp_document_lookup (fixture->document, id), &tool->preview);
  kp_annotation_translate (&tool->preview, 200, 0);
  tool->active = TRUE;

  surface = render_canvas (fixture->canvas);
  /* The object moved: gone from its place, drawn at the new one. */
  assert_look (fixture, surface, 90, 90, LOOK_IMAGE);
  assert_look (fixture, surface, 40, 90, LOOK_IMAGE);
  assert_look (fixture, surface, 290, 90, LOOK_TINT);
  assert_look (fixture, surface, 240, 90, LOOK_STROKE);
  /* The tool's marks come last, on top of everything. */
  g_assert_cmpuint (tool->n_snapshots, >, 0);
  g_assert_cmphex (surface_pixel (surface, 1, 1), ==, 0xff0000ff);
  cairo_surface_destroy (surface);

  /* One vertex moves: only that part of the preview changes. */
  tool->preview.points[2] = (KpPoint) { 400, 200 };
  kp_annotation_update_bounds (&tool->preview);
  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 280, 150, LOOK_TINT);
  assert_look (fixture, surface, 290, 60, LOOK_TINT);
  assert_look (fixture, surface, 240, 90, LOOK_STROKE);
  cairo_surface_destroy (surface);

  /* The gesture ends: the document's object is back. */
  tool->active = FALSE;
  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 90, 90, LOOK_TINT);
  assert_look (fixture, surface, 290, 90, LOOK_IMAGE);
  cairo_surface_destroy (surface);

  {
    g_autoptr(KpTool) box_tool = kp_tool_new_for_kind (fixture->canvas, KP_TOOL_KIND_BOX);

    kp_canvas_set_tool (fixture->canvas, box_tool);
  }
  g_assert_cmpuint (n_tool, ==, 2);
}

static void
test_tool_preview_vertex (Fixture       *fixture,
                          gconstpointer  data)
{
  KpPoint points[40];
  g_autoptr(TestTool) tool = NULL;
  cairo_surface_t *surface, *before;
  gint64 id;

  /* A 40-gon of radius 100 around (200, 130); vertex 0 points right. */
  for (guint i = 0; i < G_N_ELEMENTS (points); i++)
    points[i] = (KpPoint) { 200 + 100 * cos (2 * G_PI * i / 40), 130 + 100 * sin (2 * G_PI * i / 40) };

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  id = add_points (fixture, KP_SHAPE_POLYGON, points, G_N_ELEMENTS (points));
  tool = g_object_new (TEST_TYPE_TOOL, "canvas", fixture->canvas, NULL);
  kp_canvas_set_tool (fixture->canvas, KP_TOOL (tool));

  before = render_canvas (fixture->canvas);
  assert_look (fixture, before, 290, 130, LOOK_TINT);
  assert_look (fixture, before, 110, 130, LOOK_TINT);

  /* Pressed on a vertex, not moved yet: the preview is the object as it
   * is, which the cached tiles already show, all around. */
  kp_annotation_copy_to (kp_document_lookup (fixture->document, id), &tool->preview);
  tool->active = TRUE;
  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 290, 130, LOOK_TINT);
  assert_look (fixture, surface, 100, 130, LOOK_STROKE);
  assert_look (fixture, surface, 200, 30, LOOK_STROKE);
  g_assert_cmpfloat (kp_test_compare_surfaces (surface, before), <=, KP_TEST_PIXEL_TOLERANCE);
  cairo_surface_destroy (surface);
  cairo_surface_destroy (before);
  kp_annotation_clear (&tool->preview);

  /* Vertex 0 pulled in to (240, 130): the right side caves in, the rest
   * is drawn as before from the cached tiles. */
  kp_annotation_copy_to (kp_document_lookup (fixture->document, id), &tool->preview);
  tool->preview.points[0] = (KpPoint) { 240, 130 };
  kp_annotation_update_bounds (&tool->preview);
  tool->active = TRUE;
  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 290, 130, LOOK_IMAGE);
  assert_look (fixture, surface, 230, 130, LOOK_TINT);
  assert_look (fixture, surface, 110, 130, LOOK_TINT);
  assert_look (fixture, surface, 200, 30, LOOK_STROKE);
  assert_look (fixture, surface, 100, 130, LOOK_STROKE);
  cairo_surface_destroy (surface);

  /* Further out, past the original outline. */
  tool->preview.points[0] = (KpPoint) { 330, 130 };
  kp_annotation_update_bounds (&tool->preview);
  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 310, 130, LOOK_TINT);
  assert_look (fixture, surface, 110, 130, LOOK_TINT);
  cairo_surface_destroy (surface);

  tool->active = FALSE;
  surface = render_canvas (fixture->canvas);
  assert_look (fixture, surface, 310, 130, LOOK_IMAGE);
  assert_look (fixture, surface, 290, 130, LOOK_TINT);
  cairo_surface_destroy (surface);

  {
    g_autoptr(KpTool) box_tool = kp_tool_new_for_kind (fixture->canvas, KP_TOOL_KIND_BOX);

    kp_canvas_set_tool (fixture->canvas, box_tool);
  }
}

/* Hovering (no button down) hands the pointer to the tool in image
 * coordinates, and what the tool draws for it reaches the screen: the
 * polygon tool's next edge follows the pointer. */
static void
test_hover (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(TestTool) tool = g_object_new (TEST_TYPE_TOOL, "canvas", fixture->canvas, NULL);
  g_autoptr(KpTool) polygon = NULL;
  GtkEventController *controller;
  cairo_surface_t *before;
  cairo_surface_t *after;

  kp_canvas_set_tool (fixture->canvas, KP_TOOL (tool));
  controller = find_controller (GTK_WIDGET (fixture->canvas), GTK_TYPE_EVENT_CONTROLLER_MOTION, 0);
  g_signal_emit_by_name (controller, "motion", 180.0, 160.0);
  g_assert_cmpuint (tool->n_motions, ==, 1);
  g_assert_cmpfloat (tool->motion_x, ==, 100);
  g_assert_cmpfloat (tool->motion_y, ==, 100);
  g_signal_emit_by_name (controller, "motion", 380.5, 60.0);
  g_assert_cmpuint (tool->n_motions, ==, 2);
  g_assert_cmpfloat (tool->motion_x, ==, 300.5);
  g_assert_cmpfloat (tool->motion_y, ==, 0);
  /* GDK repeats the last motion after a frame: the tool, in the middle
   * of a gesture driven some other way, must not hear it again. */
  g_signal_emit_by_name (controller, "motion", 380.5, 60.0);
  g_assert_cmpuint (tool->n_motions, ==, 2);

  /* The polygon's rubber edge from its first vertex to the pointer. */
  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  kp_canvas_set_current_label_id (fixture->canvas, fixture->car_id);
  polygon = kp_tool_new_for_kind (fixture->canvas, KP_TOOL_KIND_POLYGON);
  kp_canvas_set_tool (fixture->canvas, polygon);
  kp_canvas_tool_press (fixture->canvas, 100, 100, 0);
  kp_canvas_tool_release (fixture->canvas, 100, 100, 0);
  g_signal_emit_by_name (controller, "motion", 180.0, 160.0);
  before = render_canvas (fixture->canvas);
  g_signal_emit_by_name (controller, "motion", 380.0, 160.0);
  after = render_canvas (fixture->canvas);
  /* Halfway along the edge from (100, 100) to (300, 100). */
  g_assert_cmphex (surface_pixel (before, 280, 160), ==, image_pixel (fixture, 200, 100));
  g_assert_cmphex (surface_pixel (after, 280, 160), !=, image_pixel (fixture, 200, 100));
  cairo_surface_destroy (before);
  cairo_surface_destroy (after);
}

/* The tools draw handles in the colours the canvas was given, not the
 * ones the store held when they first looked. */
static void
test_label_color (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(KpTool) select = NULL;
  cairo_surface_t *surface;
  GdkRGBA color;
  gint64 id;

  g_assert_true (_kp_canvas_get_label_color (fixture->canvas, fixture->car_id, &color));
  g_assert_cmpint ((int)round (color.red * 255), ==, 0xe0);
  g_assert_cmpint ((int)round (color.green * 255), ==, 0x1b);
  g_assert_cmpint ((int)round (color.blue * 255), ==, 0x24);
  g_assert_false (_kp_canvas_get_label_color (fixture->canvas, 4242, &color));

  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  select = kp_tool_new_for_kind (fixture->canvas, KP_TOOL_KIND_SELECT);
  kp_canvas_set_tool (fixture->canvas, select);
  id = add_box (fixture, fixture->car_id, 200, 100, 80, 40);
  kp_canvas_set_selected_id (fixture->canvas, id);
  surface = render_canvas (fixture->canvas);
  /* The top left handle's outer corner, outside the box's own stroke. */
  g_assert_cmphex (surface_pixel (surface, 276, 156), ==, 0xffe01b24);
  cairo_surface_destroy (surface);

  /* Recoloured on the canvas only: the handles follow. */
  labels = kp_store_list_labels (fixture->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < labels->len; i++)
    {
      KpLabel *label = g_ptr_array_index (labels, i);

      if (label->id == fixture->car_id)
        {
          g_free (label->color);
          label->color = g_strdup ("#1c71d8");
        }
    }
  kp_canvas_set_labels (fixture->canvas, labels);
  g_assert_true (_kp_canvas_get_label_color (fixture->canvas, fixture->car_id, &color));
  g_assert_cmpint ((int)round (color.blue * 255), ==, 0xd8);
  surface = render_canvas (fixture->canvas);
  g_assert_cmphex (surface_pixel (surface, 276, 156), ==, 0xff1c71d8);
  cairo_surface_destroy (surface);
}

/* Keyboard-only drawing is announced through the accessible description. */
static void
test_keyboard_status (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(KpTool) polygon = kp_tool_new_for_kind (fixture->canvas, KP_TOOL_KIND_POLYGON);
  GtkAccessible *accessible = GTK_ACCESSIBLE (fixture->canvas);
  g_autofree char *status = NULL;
  g_autofree char *moved = NULL;

  kp_canvas_set_current_label_id (fixture->canvas, fixture->car_id);
  kp_canvas_set_tool (fixture->canvas, polygon);
  g_assert_null (gtk_test_accessible_check_property (accessible, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                     "Image, 0 objects"));

  g_assert_true (kp_tool_key_pressed (polygon, GDK_KEY_Return, 0));
  status = kp_tool_dup_status (polygon);
  g_assert_nonnull (status);
  g_assert_nonnull (strstr (status, "320, 240"));
  g_assert_null (gtk_test_accessible_check_property (accessible, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                     status));

  g_assert_true (kp_tool_key_pressed (polygon, GDK_KEY_Right, GDK_SHIFT_MASK));
  g_assert_true (kp_tool_key_pressed (polygon, GDK_KEY_Return, 0));
  moved = kp_tool_dup_status (polygon);
  g_assert_cmpstr (moved, !=, status);
  g_assert_null (gtk_test_accessible_check_property (accessible, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                     moved));

  /* Leaving keyboard drawing gives the description back. */
  g_assert_true (kp_tool_key_pressed (polygon, GDK_KEY_Escape, 0));
  g_assert_null (kp_tool_dup_status (polygon));
  g_assert_null (gtk_test_accessible_check_property (accessible, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                                     "Image, 0 objects"));
}

/* An empty selection replacing an empty selection: nothing to compare
 * (UBSan caught memcmp() being handed the empty arrays' NULL data). */
static void
count_signal_cb (KpCanvas *canvas,
                 guint    *count)
{
  (*count)++;
}

static void
test_empty_selection (Fixture       *fixture,
                      gconstpointer  data)
{
  guint n_changes = 0;
  guint n_ids = 99;
  gint64 id;

  g_signal_connect (fixture->canvas, "selection-changed", G_CALLBACK (count_signal_cb), &n_changes);
  kp_canvas_set_selection (fixture->canvas, NULL, 0);
  g_assert_cmpuint (n_changes, ==, 0);
  kp_canvas_get_selection (fixture->canvas, &n_ids);
  g_assert_cmpuint (n_ids, ==, 0);

  id = add_box (fixture, fixture->car_id, 10, 10, 20, 20);
  kp_canvas_set_selection (fixture->canvas, &id, 1);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, id);
  g_assert_cmpuint (n_changes, ==, 1);
  kp_canvas_set_selection (fixture->canvas, NULL, 0);
  g_assert_cmpint (kp_canvas_get_selected_id (fixture->canvas), ==, 0);
  g_assert_cmpuint (n_changes, ==, 2);
  kp_canvas_set_selection (fixture->canvas, NULL, 0);
  g_assert_cmpuint (n_changes, ==, 2);
  kp_canvas_get_selection (fixture->canvas, &n_ids);
  g_assert_cmpuint (n_ids, ==, 0);
}

/* A canvas one pixel wider than the fixture's: the centred image would
 * start at x = 80.5. The image and the annotation tiles both sit on whole
 * pixels, so a box's edge lands exactly on the image's pixel edge. */
static void
test_half_pixel (Fixture       *fixture,
                 gconstpointer  data)
{
  GtkWidget *canvas = GTK_WIDGET (fixture->canvas);
  const KpView *view = kp_canvas_get_view (fixture->canvas);
  g_autoptr(KpTool) tool = g_object_new (NULL_TYPE_TOOL, "canvas", fixture->canvas, NULL);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  cairo_surface_t *surface;
  int ox, oy;

  kp_canvas_set_tool (fixture->canvas, tool);
  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  gtk_widget_set_size_request (canvas, CANVAS_WIDTH + 1, CANVAS_HEIGHT + 1);
  while ((gtk_widget_get_width (canvas) != CANVAS_WIDTH + 1 ||
          gtk_widget_get_height (canvas) != CANVAS_HEIGHT + 1) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (gtk_widget_get_width (canvas), ==, CANVAS_WIDTH + 1);
  g_assert_cmpint (gtk_widget_get_height (canvas), ==, CANVAS_HEIGHT + 1);

  g_assert_true (kp_canvas_get_fit (fixture->canvas));
  g_assert_cmpfloat (view->scale, ==, 1.0);
  g_assert_cmpfloat (view->offset_x, ==, round (view->offset_x));
  g_assert_cmpfloat (view->offset_y, ==, round (view->offset_y));
  g_assert_cmpfloat (fabs (view->offset_x - 80.5), ==, 0.5);
  ox = (int)view->offset_x;
  oy = (int)view->offset_y;

  /* The image's colour edge at x = 320 (top half) is sharp, not blended. */
  add_box (fixture, fixture->person_id, 320, 20, 100, 100);
  surface = kp_test_render_widget (canvas, 0, 0, CANVAS_WIDTH + 1, CANVAS_HEIGHT + 1);
  g_assert_cmphex (surface_pixel (surface, ox + 319, oy + 150), ==, image_pixel (fixture, 319, 150));
  g_assert_cmphex (surface_pixel (surface, ox + 320, oy + 150), ==, image_pixel (fixture, 320, 150));
  /* The box's left edge: its stroke starts on the image's column 320. */
  g_assert_cmphex (surface_pixel (surface, ox + 319, oy + 70), ==, image_pixel (fixture, 319, 70));
  g_assert_cmphex (surface_pixel (surface, ox + 320, oy + 70), !=, image_pixel (fixture, 320, 70));
  g_assert_cmphex (surface_pixel (surface, ox + 320, oy + 70), ==, 0xff2ec27e);
  cairo_surface_destroy (surface);

  /* Zooming about a point keeps the origin on a whole pixel too. */
  kp_canvas_zoom_at (fixture->canvas, 1.5, 333.3, 222.2);
  g_assert_cmpfloat (view->offset_x, ==, round (view->offset_x));
  g_assert_cmpfloat (view->offset_y, ==, round (view->offset_y));
}

/* Composites: the background, the image and the annotation tile under
 * each tile, drawn as one texture and reused; what they show must follow
 * the objects and the image adjustments as the layers would. */

/* Whether node draws texture itself, through the containers around it. */
static gboolean
node_draws_texture (GskRenderNode *node,
                    GdkTexture    *texture)
{
  switch ((int)gsk_render_node_get_node_type (node))
    {
    case GSK_CONTAINER_NODE:
      for (guint i = 0; i < gsk_container_node_get_n_children (node); i++)
        if (node_draws_texture (gsk_container_node_get_child (node, i), texture))
          return TRUE;
      return FALSE;

    case GSK_CLIP_NODE:
      return node_draws_texture (gsk_clip_node_get_child (node), texture);

    case GSK_TRANSFORM_NODE:
      return node_draws_texture (gsk_transform_node_get_child (node), texture);

    case GSK_COLOR_MATRIX_NODE:
      return node_draws_texture (gsk_color_matrix_node_get_child (node), texture);

    case GSK_DEBUG_NODE:
      return node_draws_texture (gsk_debug_node_get_child (node), texture);

    case GSK_TEXTURE_NODE:
      return gsk_texture_node_get_texture (node) == texture;

    default:
      return FALSE;
    }
}

/* One frame of the canvas, straight from its snapshot(); *layered tells
 * whether it drew the image itself rather than from composites. */
static cairo_surface_t *
render_frame (Fixture  *fixture,
              gboolean *layered)
{
  GtkWidget *canvas = GTK_WIDGET (fixture->canvas);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  cairo_surface_t *surface;
  cairo_t *cr;

  GTK_WIDGET_GET_CLASS (canvas)->snapshot (canvas, snapshot);
  node = gtk_snapshot_free_to_node (snapshot);
  *layered = node_draws_texture (node, fixture->texture);

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, CANVAS_WIDTH, CANVAS_HEIGHT);
  cr = cairo_create (surface);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  return surface;
}

static void
test_composite (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(KpTool) tool = g_object_new (NULL_TYPE_TOOL, "canvas", fixture->canvas, NULL);
  g_autoptr(GError) error = NULL;
  const KpView *view = kp_canvas_get_view (fixture->canvas);
  cairo_surface_t *layers, *composited;
  KpRect rect = { 360, 20, 100, 100 };
  gboolean layered;
  guint32 plain;
  KpView zoomed;
  int ox, oy;
  gint64 id;

  kp_canvas_set_tool (fixture->canvas, tool);
  kp_canvas_set_show_captions (fixture->canvas, FALSE);
  id = add_box (fixture, fixture->person_id, 320, 20, 100, 100);
  kp_test_wait_for_frame (GTK_WIDGET (fixture->canvas));
  g_assert_cmpfloat (view->scale, ==, 1.0);
  ox = (int)view->offset_x;
  oy = (int)view->offset_y;

  /* The few tiles of this view are composited at once. */
  composited = render_frame (fixture, &layered);
  g_assert_false (layered);
  g_assert_cmphex (surface_pixel (composited, ox + 319, oy + 70), ==, image_pixel (fixture, 319, 70));
  g_assert_cmphex (surface_pixel (composited, ox + 320, oy + 70), ==, 0xff2ec27e);
  g_assert_cmphex (surface_pixel (composited, ox + 600, oy + 50), ==, image_pixel (fixture, 600, 50));
  g_assert_cmphex (surface_pixel (composited, ox - 10, oy + 50), ==, surface_pixel (composited, 2, 2));
  cairo_surface_destroy (composited);

  /* A moved object: its old and new places are drawn again. */
  g_assert_true (kp_document_set_rect (fixture->document, id, &rect, &error));
  g_assert_no_error (error);
  composited = render_frame (fixture, &layered);
  g_assert_false (layered);
  g_assert_cmphex (surface_pixel (composited, ox + 320, oy + 70), ==, image_pixel (fixture, 320, 70));
  g_assert_cmphex (surface_pixel (composited, ox + 359, oy + 70), ==, image_pixel (fixture, 359, 70));
  g_assert_cmphex (surface_pixel (composited, ox + 360, oy + 70), ==, 0xff2ec27e);
  cairo_surface_destroy (composited);

  /* Brightness changes the image in every composite, not the box. */
  plain = image_pixel (fixture, 600, 50);
  kp_canvas_set_brightness (fixture->canvas, 0.2);
  composited = render_frame (fixture, &layered);
  g_assert_false (layered);
  for (int shift = 0; shift <= 16; shift += 8)
    {
      double expected = MIN (channel (plain, shift) + 0.2 * 255, 255);

      g_assert_cmpfloat (fabs (channel (surface_pixel (composited, ox + 600, oy + 50), shift) - expected), <=, 2);
    }
  g_assert_cmphex (surface_pixel (composited, ox + 360, oy + 70), ==, 0xff2ec27e);
  cairo_surface_destroy (composited);

  kp_canvas_set_brightness (fixture->canvas, 0);
  composited = render_frame (fixture, &layered);
  g_assert_false (layered);
  g_assert_cmphex (surface_pixel (composited, ox + 600, oy + 50), ==, plain);
  cairo_surface_destroy (composited);

  /* A zoom step makes every tile anew: that frame is drawn in layers,
   * the next one from composites, and both look the same. */
  kp_canvas_zoom_at (fixture->canvas, 2.0, 400, 300);
  layers = render_frame (fixture, &layered);
  g_assert_true (layered);
  composited = render_frame (fixture, &layered);
  g_assert_false (layered);
  g_assert_cmpfloat (kp_test_compare_surfaces (layers, composited), <=, KP_TEST_PIXEL_TOLERANCE);
  cairo_surface_destroy (composited);

  /* Panning away by more than the tiles kept and back draws the same. */
  zoomed = *view;
  kp_canvas_pan_by (fixture->canvas, -700, -500);
  cairo_surface_destroy (render_frame (fixture, &layered));
  kp_canvas_set_view (fixture->canvas, &zoomed);
  composited = render_frame (fixture, &layered);
  g_assert_false (layered);
  g_assert_cmpfloat (kp_test_compare_surfaces (layers, composited), <=, KP_TEST_PIXEL_TOLERANCE);
  cairo_surface_destroy (composited);
  cairo_surface_destroy (layers);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/canvas/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("draw-box", test_draw_box);
  ADD ("move-box", test_move_box);
  ADD ("resize-box", test_resize_box);
  ADD ("click-select", test_click_select);
  ADD ("cycle", test_cycle);
  ADD ("delete-undo", test_delete_undo);
  ADD ("zoom", test_zoom);
  ADD ("no-label", test_no_label);
  ADD ("store-error", test_store_error);
  ADD ("snapshot", test_snapshot);
  ADD ("captions", test_captions);
  ADD ("pixel-exact", test_pixel_exact);
  ADD ("brightness-contrast", test_brightness_contrast);
  ADD ("gamma", test_gamma);
  ADD ("view", test_view);
  ADD ("pick", test_pick);
  ADD ("incremental-dense", test_incremental_dense);
  ADD ("incremental-sparse", test_incremental_sparse);
  ADD ("hidpi", test_hidpi);
  ADD ("shape-polygon", test_shape_polygon);
  ADD ("shape-rotated-box", test_shape_rotated_box);
  ADD ("shape-lines", test_shape_lines);
  ADD ("shape-points", test_shape_points);
  ADD ("shape-mask", test_shape_mask);
  ADD ("shape-mask-zoomed-out", test_shape_mask_zoomed_out);
  ADD ("hidden-and-pending", test_hidden_and_pending);
  ADD ("selection-set", test_selection_set);
  ADD ("selection-drawn", test_selection_drawn);
  ADD ("pick-shape", test_pick_shape);
  ADD ("query-rect", test_query_rect);
  ADD ("delete-selection", test_delete_selection);
  ADD ("cycle-visible", test_cycle_visible);
  ADD ("zoom-selection", test_zoom_selection);
  ADD ("crosshair", test_crosshair);
  ADD ("tool-preview", test_tool_preview);
  ADD ("tool-preview-vertex", test_tool_preview_vertex);
  ADD ("hover", test_hover);
  ADD ("label-color", test_label_color);
  ADD ("keyboard-status", test_keyboard_status);
  ADD ("empty-selection", test_empty_selection);
  ADD ("half-pixel", test_half_pixel);
  ADD ("composite", test_composite);

#undef ADD

  return g_test_run ();
}
