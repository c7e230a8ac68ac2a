/* bench-canvas.c: frame, snapshot and picking cost of the canvas at scale
 *
 * Run under a 1920x1080 (or larger) X server, e.g.
 *   xvfb-run -a -s "-screen 0 1920x1200x24" bench-canvas
 *
 * Frames are timed by the frame clock while the view moves every frame, so
 * each one is snapshotted, rendered by GTK's renderer and presented; a
 * figure is the median frame of a run (the mean suffers from whatever else
 * runs on the machine). Each
 * figure comes with a baseline measured in the same run:
 *   canvas_empty_ms_baseline         the canvas with no objects, panning
 *   canvas_10k_visible_ms_baseline   the same 10,000 boxes drawn naively
 *                                    with cairo onto an image surface (a
 *                                    GtkDrawingArea above the empty canvas)
 * The 100,000-box case is viewed at a high zoom, where the image itself is
 * drawn differently, so its ratio is to the empty canvas at that same view
 * (canvas_empty_zoomed_ms_baseline).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* RUSAGE_THREAD */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "kp-canvas.h"
#include "kp-canvas-private.h"
#include "kp-core.h"

#define WINDOW_WIDTH 1920
#define WINDOW_HEIGHT 1080
#define IMAGE_WIDTH 4000
#define IMAGE_HEIGHT 3000
#define N_BOXES_1K 1000
#define N_BOXES_10K 10000
#define N_BOXES_100K 100000
#define ZOOM_100K 15.0
#define ROUNDS 3
#define WARMUP_FRAMES 10
#define MEASURED_FRAMES 100
#define NAIVE_FRAMES 30
#define SNAPSHOT_ROUNDS 200
#define PICK_ROUNDS 100000
#define PAN_STEP 3.0
#define N_POLYGON_VERTICES 50000

typedef enum
{
  MOTION_PAN,
  MOTION_DRAG,
  MOTION_ZOOM,
  MOTION_VERTEX,                /* drags vertex 0 of the first object */
} Motion;

typedef struct
{
  KpCanvas  *canvas;
  GtkWidget *naive;             /* panned along, when set */
  GMainLoop *loop;
  Motion     motion;
  guint      frames;
  guint      frame;
  gint64     previous;
  GArray    *intervals;         /* double, ms per measured frame */
  double     direction;
  gint64     cpu_first;         /* process CPU time, µs */
  gint64     cpu_last;
  gint64     main_first;        /* the main thread's alone */
  gint64     main_last;
  double     drag_x;            /* image coordinates of the dragged point */
  double     drag_y;
} Run;

typedef struct
{
  KpDocument *document;
  double      offset_x;
  double      offset_y;
} Naive;

static GdkTexture *
make_texture (void)
{
  g_autoptr(GBytes) bytes = NULL;
  gsize stride = IMAGE_WIDTH * 4;
  guint8 *data = g_malloc (stride * IMAGE_HEIGHT);

  for (int y = 0; y < IMAGE_HEIGHT; y++)
    for (int x = 0; x < IMAGE_WIDTH; x++)
      {
        guint8 *p = data + y * stride + x * 4;
        gboolean dark = ((x / 100) + (y / 100)) % 2;

        p[0] = dark ? 40 : (x * 255) / IMAGE_WIDTH;
        p[1] = dark ? 50 : (y * 255) / IMAGE_HEIGHT;
        p[2] = dark ? 60 : 128;
        p[3] = 255;
      }

  bytes = g_bytes_new_take (data, stride * IMAGE_HEIGHT);
  return gdk_memory_texture_new (IMAGE_WIDTH, IMAGE_HEIGHT, GDK_MEMORY_R8G8B8A8, bytes, stride);
}

static void
write_small_png (const char *folder,
                 const char *name)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 8, 8);

  if (cairo_surface_write_to_png (surface, path) != CAIRO_STATUS_SUCCESS)
    g_error ("Cannot write %s", path);
  cairo_surface_destroy (surface);
}

/* The 10k view: 1.25x best fit, the whole width and 80 % of the height. */
static KpView
view_10k (KpCanvas *canvas)
{
  KpView view = kp_view_fit (IMAGE_WIDTH, IMAGE_HEIGHT, WINDOW_WIDTH, WINDOW_HEIGHT, 1.0);

  return kp_view_zoom_at (view, view.scale * 1.25, WINDOW_WIDTH / 2.0, WINDOW_HEIGHT / 2.0);
}

/* The 100k view: deep inside the image, about 100 of the boxes in view. */
static KpView
view_100k (KpCanvas *canvas)
{
  KpView view;

  view.scale = ZOOM_100K;
  view.offset_x = WINDOW_WIDTH / 2.0 - IMAGE_WIDTH / 2.0 * ZOOM_100K;
  view.offset_y = WINDOW_HEIGHT / 2.0 - IMAGE_HEIGHT / 2.0 * ZOOM_100K;

  return view;
}

static void
set_view (Run          *run,
          const KpView *view)
{
  kp_canvas_set_view (run->canvas, view);

  if (run->naive != NULL)
    {
      Naive *naive = g_object_get_data (G_OBJECT (run->naive), "naive");
      const KpView *shown = kp_canvas_get_view (run->canvas);

      naive->offset_x = shown->offset_x;
      naive->offset_y = shown->offset_y;
      gtk_widget_queue_draw (run->naive);
    }
}

/* CPU time of this process, all threads (the GL rasterizer's too), or
 * of the calling thread alone. */
static gint64
get_cpu_time_of (int who)
{
  struct rusage usage;

  getrusage (who, &usage);
  return (gint64)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * G_USEC_PER_SEC +
         usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
}

static gint64
get_cpu_time (void)
{
  return get_cpu_time_of (RUSAGE_SELF);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  Run *run = user_data;
  /* Wall time: the frame clock's own times are smoothed to whole refresh
   * intervals. */
  gint64 now = g_get_monotonic_time ();
  KpView view = *kp_canvas_get_view (run->canvas);

  if (run->frame > WARMUP_FRAMES)
    {
      double interval = (now - run->previous) / 1000.0;

      g_array_append_val (run->intervals, interval);
    }
  run->previous = now;
  if (run->frame == WARMUP_FRAMES)
    {
      run->cpu_first = get_cpu_time ();
      run->main_first = get_cpu_time_of (RUSAGE_THREAD);
    }

  if (run->frame == WARMUP_FRAMES + run->frames)
    {
      run->cpu_last = get_cpu_time ();
      run->main_last = get_cpu_time_of (RUSAGE_THREAD);
      g_main_loop_quit (run->loop);
      return G_SOURCE_REMOVE;
    }

  /* Sweep back and forth so the view never hits the clamp. */
  if (run->frame % 40 == 0)
    run->direction = -run->direction;

  switch (run->motion)
    {
    case MOTION_PAN:
      view.offset_x += PAN_STEP * run->direction;
      view.offset_y += PAN_STEP * run->direction / 2;
      set_view (run, &view);
      break;

    case MOTION_DRAG:
    case MOTION_VERTEX:
      run->drag_x += PAN_STEP * run->direction / view.scale;
      run->drag_y += PAN_STEP * run->direction / 2 / view.scale;
      kp_canvas_tool_motion (run->canvas, run->drag_x, run->drag_y, 0);
      break;

    case MOTION_ZOOM:
      /* In, in, out, out: every frame is at a scale not drawn just before. */
      if (run->frame % 4 < 2)
        view = kp_view_zoom_at (view, kp_zoom_step_in (view.scale),
                                WINDOW_WIDTH / 2.0, WINDOW_HEIGHT / 2.0);
      else
        view = kp_view_zoom_at (view, kp_zoom_step_out (view.scale),
                                WINDOW_WIDTH / 2.0, WINDOW_HEIGHT / 2.0);
      set_view (run, &view);
      break;

    default:
      g_assert_not_reached ();
    }

  run->frame++;
  return G_SOURCE_CONTINUE;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double da = *(const double *)a;
  double db = *(const double *)b;

  return da < db ? -1 : da > db;
}

static double
median_of (double runs[ROUNDS])
{
  double sorted[ROUNDS];

  memcpy (sorted, runs, sizeof sorted);
  qsort (sorted, ROUNDS, sizeof (double), compare_double);

  return sorted[ROUNDS / 2];
}

/* CPU time per frame of the last measure_frames(), all threads: less
 * sensitive than the frame interval to what else runs on the machine. */
static double last_cpu_ms;

static double
measure_frames (KpCanvas     *canvas,
                GtkWidget    *naive,
                const KpView *start,
                Motion        motion,
                guint         frames)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GArray) intervals = g_array_new (FALSE, FALSE, sizeof (double));
  Run run = { canvas, naive, loop, motion, frames, 0, 0, intervals, 1.0, 0, 0, 0, 0, 0, 0 };

  set_view (&run, start);

  if (motion == MOTION_DRAG)
    {
      /* Grab the topmost box near the middle, as a person would. */
      KpDocument *document = kp_canvas_get_document (canvas);
      GPtrArray *annotations = kp_document_get_annotations (document);
      const KpAnnotation *box = g_ptr_array_index (annotations, annotations->len - 1);

      run.drag_x = box->rect.x + box->rect.width / 2;
      run.drag_y = box->rect.y + box->rect.height / 2;
      kp_canvas_tool_press (canvas, run.drag_x, run.drag_y, 0);
      g_assert (kp_canvas_get_selected_id (canvas) == box->id);
    }

  if (motion == MOTION_VERTEX)
    {
      KpDocument *document = kp_canvas_get_document (canvas);
      const KpAnnotation *polygon = g_ptr_array_index (kp_document_get_annotations (document), 0);
      guint n_previews = 0;

      kp_canvas_set_selected_id (canvas, polygon->id);
      run.drag_x = polygon->points[0].x;
      run.drag_y = polygon->points[0].y;
      kp_canvas_tool_press (canvas, run.drag_x, run.drag_y, 0);
      kp_canvas_tool_motion (canvas, run.drag_x + 1, run.drag_y, 0);
      kp_tool_get_preview_annotations (kp_canvas_get_tool (canvas), &n_previews);
      g_assert (n_previews == 1);
    }

  gtk_widget_add_tick_callback (GTK_WIDGET (canvas), tick_cb, &run, NULL);
  g_main_loop_run (loop);

  if (motion == MOTION_DRAG || motion == MOTION_VERTEX)
    {
      /* Put it back: the release writes the move, undo takes it away. */
      kp_canvas_tool_release (canvas, run.drag_x, run.drag_y, 0);
      if (kp_document_get_can_undo (kp_canvas_get_document (canvas)))
        kp_document_undo (kp_canvas_get_document (canvas), NULL);
    }

  /* The median frame: the machine is shared, and a build running next to
   * the benchmark shows up as a few very long frames. */
  g_array_sort (intervals, compare_double);
  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    g_print ("# frames: cpu %.1f (main thread %.1f), min %.1f p25 %.1f median %.1f p75 %.1f max %.1f\n",
             (run.cpu_last - run.cpu_first) / 1000.0 / frames,
             (run.main_last - run.main_first) / 1000.0 / frames,
             g_array_index (intervals, double, 0),
             g_array_index (intervals, double, intervals->len / 4),
             g_array_index (intervals, double, intervals->len / 2),
             g_array_index (intervals, double, intervals->len * 3 / 4),
             g_array_index (intervals, double, intervals->len - 1));
  last_cpu_ms = (run.cpu_last - run.cpu_first) / 1000.0 / frames;
  return g_array_index (intervals, double, intervals->len / 2);
}

static double
measure_snapshot (KpCanvas     *canvas,
                  const KpView *start)
{
  GtkWidgetClass *klass = GTK_WIDGET_GET_CLASS (canvas);
  gint64 begin, total = 0;
  KpView view = *start;

  kp_canvas_set_view (canvas, &view);

  for (guint i = 0; i <= SNAPSHOT_ROUNDS; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      GskRenderNode *node;

      /* Panning a pixel each time, so the view is never the same. */
      view.offset_y += (i / 50) % 2 ? -1 : 1;
      kp_canvas_set_view (canvas, &view);

      begin = g_get_monotonic_time ();
      klass->snapshot (GTK_WIDGET (canvas), snapshot);
      node = gtk_snapshot_free_to_node (snapshot);
      /* The first round fills the cache, as the first frame would. */
      if (i > 0)
        total += g_get_monotonic_time () - begin;

      g_clear_pointer (&node, gsk_render_node_unref);
    }

  return total / 1000.0 / SNAPSHOT_ROUNDS;
}

/* A snapshot that has to draw every tile, as the first one at a new scale. */
static double
measure_cold_snapshot (KpCanvas     *canvas,
                       const KpView *view)
{
  GtkWidgetClass *klass = GTK_WIDGET_GET_CLASS (canvas);
  KpDocument *document = kp_canvas_get_document (canvas);
  gint64 begin, total = 0;

  kp_canvas_set_view (canvas, view);
  for (guint i = 0; i < 5; i++)
    {
      GtkSnapshot *snapshot = gtk_snapshot_new ();
      GskRenderNode *node;

      /* Setting the document again drops the cached tiles. */
      kp_canvas_set_document (canvas, NULL);
      kp_canvas_set_document (canvas, document);

      begin = g_get_monotonic_time ();
      klass->snapshot (GTK_WIDGET (canvas), snapshot);
      node = gtk_snapshot_free_to_node (snapshot);
      total += g_get_monotonic_time () - begin;

      g_clear_pointer (&node, gsk_render_node_unref);
    }

  return total / 1000.0 / 5;
}

static double
measure_pick (KpCanvas *canvas)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  double *points = g_new (double, 2 * PICK_ROUNDS);
  gint64 begin, elapsed;
  guint hits = 0;

  for (guint i = 0; i < PICK_ROUNDS; i++)
    {
      points[2 * i] = g_rand_double_range (rand, 0, IMAGE_WIDTH);
      points[2 * i + 1] = g_rand_double_range (rand, 0, IMAGE_HEIGHT);
    }

  begin = g_get_monotonic_time ();
  for (guint i = 0; i < PICK_ROUNDS; i++)
    hits += _kp_canvas_pick (canvas, points[2 * i], points[2 * i + 1]) != 0;
  elapsed = g_get_monotonic_time () - begin;

  g_print ("# %u of %u random points hit a box\n", hits, PICK_ROUNDS);
  g_free (points);

  return elapsed / 1000.0 / PICK_ROUNDS;
}

static guint
count_visible (KpCanvas   *canvas,
               KpDocument *document)
{
  GPtrArray *annotations = kp_document_get_annotations (document);
  KpRect visible = kp_view_visible_rect (kp_canvas_get_view (canvas), WINDOW_WIDTH, WINDOW_HEIGHT);
  guint n = 0;

  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);

      if (kp_rect_intersects (&annotation->rect, &visible))
        n++;
    }

  return n;
}

/* The naive way: every frame, every box, through cairo. */
static void
naive_draw_cb (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        user_data)
{
  static const double colors[][3] = {
    { 0.88, 0.11, 0.14 }, { 0.18, 0.76, 0.49 }, { 0.21, 0.52, 0.89 },
    { 0.96, 0.83, 0.18 }, { 0.57, 0.25, 0.67 },
  };
  Naive *naive = user_data;
  GPtrArray *annotations = kp_document_get_annotations (naive->document);
  double scale = kp_view_fit (IMAGE_WIDTH, IMAGE_HEIGHT, WINDOW_WIDTH, WINDOW_HEIGHT, 1.0).scale * 1.25;

  cairo_set_line_width (cr, 2);
  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);
      const double *c = colors[annotation->label_id % G_N_ELEMENTS (colors)];

      cairo_rectangle (cr,
                       annotation->rect.x * scale + naive->offset_x + 1,
                       annotation->rect.y * scale + naive->offset_y + 1,
                       annotation->rect.width * scale - 2,
                       annotation->rect.height * scale - 2);
      cairo_set_source_rgba (cr, c[0], c[1], c[2], 0.15);
      cairo_fill_preserve (cr);
      cairo_set_source_rgb (cr, c[0], c[1], c[2]);
      cairo_stroke (cr);
    }
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

static KpDocument *
make_document (KpStore    *store,
               gint64      media_id,
               const gint64 *label_ids,
               guint       n_labels,
               guint       n_boxes,
               KpRect      area,
               int         min_size,
               int         max_size,
               guint32     seed)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  KpDocument *document;

  /* Straight into the store, then loaded: faster than n undoable edits. */
  for (guint i = 0; i < n_boxes; i++)
    {
      KpAnnotation annotation = { 0, media_id, label_ids[i % n_labels], KP_SHAPE_BOX, { 0, 0, 0, 0 } };

      annotation.rect.width = g_rand_int_range (rand, min_size, max_size);
      annotation.rect.height = g_rand_int_range (rand, min_size, max_size);
      annotation.rect.x = area.x + g_rand_int_range (rand, 0, area.width - annotation.rect.width);
      annotation.rect.y = area.y + g_rand_int_range (rand, 0, area.height - annotation.rect.height);
      kp_store_add_annotation (store, &annotation, &error);
      g_assert_no_error (error);
    }

  document = kp_document_new (store, media_id, &error);
  g_assert_no_error (error);

  return document;
}

/* One polygon of n vertices around the middle of the image, its radius
 * wobbling so no run of vertices is straight. */
static KpDocument *
make_polygon_document (KpStore *store,
                       gint64   media_id,
                       gint64   label_id,
                       guint    n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (45);
  KpAnnotation annotation = { 0, media_id, label_id, KP_SHAPE_POLYGON, { 0, 0, 0, 0 } };
  g_autofree KpPoint *points = g_new (KpPoint, n);
  KpDocument *document;

  for (guint i = 0; i < n; i++)
    {
      double angle = 2 * G_PI * i / n;
      double radius = 1100 + 60 * sin (angle * 37) + g_rand_double_range (rand, -3, 3);

      points[i].x = IMAGE_WIDTH / 2.0 + radius * cos (angle);
      points[i].y = IMAGE_HEIGHT / 2.0 + radius * sin (angle);
    }
  kp_annotation_set_points (&annotation, points, n);
  kp_store_add_annotation (store, &annotation, &error);
  g_assert_no_error (error);
  kp_annotation_clear (&annotation);

  document = kp_document_new (store, media_id, &error);
  g_assert_no_error (error);

  return document;
}

/* The drag of a polygon's vertex, with the select tool, which edits
 * vertices; the canvas's own box tool moves whole objects. */
static double
measure_vertex_drag (KpCanvas     *canvas,
                     KpDocument   *polygon,
                     const KpView *view)
{
  g_autoptr(KpTool) select = kp_tool_new_for_kind (canvas, KP_TOOL_KIND_SELECT);
  g_autoptr(KpTool) previous = g_object_ref (kp_canvas_get_tool (canvas));
  double ms;

  kp_canvas_set_document (canvas, polygon);
  kp_canvas_set_tool (canvas, select);
  ms = measure_frames (canvas, NULL, view, MOTION_VERTEX, MEASURED_FRAMES);
  kp_canvas_set_tool (canvas, previous);
  kp_canvas_set_selected_id (canvas, 0);

  return ms;
}

/* Context for a ratio on a loaded machine: the ratio within each round
 * (its case and baseline measured a minute apart, not minutes), and the
 * ratio of CPU time per frame. */
static void
print_round_ratios (const char *name,
                    double      runs[ROUNDS],
                    double      baseline_runs[ROUNDS],
                    double      cpu[ROUNDS],
                    double      baseline_cpu[ROUNDS])
{
  double ratios[ROUNDS], cpu_ratios[ROUNDS];

  for (guint i = 0; i < ROUNDS; i++)
    {
      ratios[i] = runs[i] / baseline_runs[i];
      cpu_ratios[i] = cpu[i] / baseline_cpu[i];
    }
  g_print ("# %s within each round:", name);
  for (guint i = 0; i < ROUNDS; i++)
    g_print (" %.2f", ratios[i]);
  g_print (" (median %.2f); CPU per frame:", median_of (ratios));
  for (guint i = 0; i < ROUNDS; i++)
    g_print (" %.1f/%.1f", cpu[i], baseline_cpu[i]);
  g_print (" (median ratio %.2f)\n", median_of (cpu_ratios));
}

static void
print_ratio (const char *name,
             double      value,
             double      baseline,
             double      target)
{
  g_print ("BENCH %s_ratio %.3f\n", name, value / baseline);
  g_print ("# %s: %.3f / %.3f = %.2f (target <= %.1f)%s\n", name, value, baseline,
           value / baseline, target, value / baseline <= target ? "" : " MISSED");
}

int
main (int   argc,
      char *argv[])
{
  static const char *colors[] = { "#e01b24", "#2ec27e", "#3584e4", "#f6d32d", "#9141ac" };
  static const char *names[] = { "car", "person", "bicycle", "traffic light", "dog" };
  g_autoptr(GError) error = NULL;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(KpDocument) boxes_1k = NULL;
  g_autoptr(KpDocument) boxes_10k = NULL;
  g_autoptr(KpDocument) boxes_100k = NULL;
  g_autoptr(KpDocument) empty = NULL;
  g_autoptr(KpDocument) visible_only = NULL;
  g_autoptr(KpDocument) polygon_50k = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *folder = NULL;
  gint64 label_ids[G_N_ELEMENTS (colors)];
  GtkWidget *window, *overlay, *naive_area;
  Naive naive = { NULL, 0, 0 };
  KpCanvas *canvas;
  KpView v10k, v100k;
  KpRect band;
  double empty_runs[ROUNDS], empty_zoomed_runs[ROUNDS], pan_10k_runs[ROUNDS], drag_runs[ROUNDS];
  double zoom_runs[ROUNDS], pan_100k_runs[ROUNDS], frame_1k_runs[ROUNDS], visible_only_runs[ROUNDS];
  double polygon_runs[ROUNDS], polygon_ms;
  double empty_cpu[ROUNDS], empty_zoomed_cpu[ROUNDS], pan_10k_cpu[ROUNDS], drag_cpu[ROUNDS];
  double pan_100k_cpu[ROUNDS], polygon_cpu[ROUNDS];
  double empty_ms, empty_zoomed_ms, naive_ms, pan_10k_ms, pan_100k_ms;
  double drag_ms, zoom_ms, snapshot_10k_ms, pick_ms, frame_1k_ms, snapshot_1k_ms;
  gint64 deadline, begin;

  gtk_init ();

  folder = g_dir_make_tmp ("kp-bench-canvas-XXXXXX", &error);
  g_assert_no_error (error);
  write_small_png (folder, "a.png");
  write_small_png (folder, "b.png");
  write_small_png (folder, "c.png");
  write_small_png (folder, "d.png");
  write_small_png (folder, "e.png");
  write_small_png (folder, "f.png");

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  kp_store_scan (store, NULL, &error);
  g_assert_no_error (error);
  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert (media->len == 6);

  for (guint i = 0; i < G_N_ELEMENTS (colors); i++)
    {
      label_ids[i] = kp_store_add_label (store, names[i], colors[i], i + 1, &error);
      g_assert_no_error (error);
    }
  labels = kp_store_list_labels (store, &error);
  g_assert_no_error (error);

  begin = g_get_monotonic_time ();
  empty = kp_document_new (store, ((KpMedia *)g_ptr_array_index (media, 0))->id, &error);
  g_assert_no_error (error);
  boxes_1k = make_document (store, ((KpMedia *)g_ptr_array_index (media, 1))->id,
                            label_ids, G_N_ELEMENTS (label_ids), N_BOXES_1K,
                            (KpRect) { 0, 0, IMAGE_WIDTH, IMAGE_HEIGHT }, 40, 200, 42);
  /* All 10,000 stay in view while the view pans up and down. */
  band = (KpRect) { 0, 450, IMAGE_WIDTH, IMAGE_HEIGHT - 900 };
  boxes_10k = make_document (store, ((KpMedia *)g_ptr_array_index (media, 2))->id,
                             label_ids, G_N_ELEMENTS (label_ids), N_BOXES_10K,
                             band, 40, 200, 43);
  boxes_100k = make_document (store, ((KpMedia *)g_ptr_array_index (media, 3))->id,
                              label_ids, G_N_ELEMENTS (label_ids), N_BOXES_100K,
                              (KpRect) { 0, 0, IMAGE_WIDTH, IMAGE_HEIGHT }, 4, 20, 44);
  polygon_50k = make_polygon_document (store, ((KpMedia *)g_ptr_array_index (media, 5))->id,
                                       label_ids[2], N_POLYGON_VERTICES);
  g_print ("# documents made in %.1f s\n", (g_get_monotonic_time () - begin) / 1e6);

  /* Only the boxes of the 100k document that the panning ever shows: what
   * the 100k case costs when the cost follows what is visible. */
  {
    KpView view = view_100k (NULL);
    KpRect seen = kp_view_visible_rect (&view, WINDOW_WIDTH, WINDOW_HEIGHT);
    GPtrArray *all = kp_document_get_annotations (boxes_100k);
    gint64 media_id = ((KpMedia *)g_ptr_array_index (media, 4))->id;

    seen.x -= 20;
    seen.y -= 20;
    seen.width += 40;
    seen.height += 40;
    for (guint i = 0; i < all->len; i++)
      {
        KpAnnotation annotation = *(const KpAnnotation *)g_ptr_array_index (all, i);

        if (!kp_rect_intersects (&annotation.rect, &seen))
          continue;
        annotation.id = 0;
        annotation.media_id = media_id;
        kp_store_add_annotation (store, &annotation, &error);
        g_assert_no_error (error);
      }
    visible_only = kp_document_new (store, media_id, &error);
    g_assert_no_error (error);
  }

  texture = make_texture ();

  window = gtk_window_new ();
  gtk_window_set_decorated (GTK_WINDOW (window), FALSE);
  gtk_window_set_default_size (GTK_WINDOW (window), WINDOW_WIDTH, WINDOW_HEIGHT);
  overlay = gtk_overlay_new ();
  canvas = KP_CANVAS (kp_canvas_new ());
  gtk_overlay_set_child (GTK_OVERLAY (overlay), GTK_WIDGET (canvas));
  naive.document = boxes_10k;
  naive_area = gtk_drawing_area_new ();
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (naive_area), naive_draw_cb, &naive, NULL);
  g_object_set_data (G_OBJECT (naive_area), "naive", &naive);
  gtk_widget_set_can_target (naive_area, FALSE);
  gtk_widget_set_visible (naive_area, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), naive_area);
  gtk_window_set_child (GTK_WINDOW (window), overlay);
  kp_canvas_set_labels (canvas, labels);
  kp_canvas_set_texture (canvas, texture);
  kp_canvas_set_document (canvas, empty);
  gtk_window_present (GTK_WINDOW (window));

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((gtk_widget_get_width (GTK_WIDGET (canvas)) < WINDOW_WIDTH ||
          gtk_widget_get_height (GTK_WIDGET (canvas)) < WINDOW_HEIGHT) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (gtk_widget_get_width (GTK_WIDGET (canvas)) < WINDOW_WIDTH)
    g_print ("# the canvas got only %dx%d; run under a 1920x1080 screen\n",
             gtk_widget_get_width (GTK_WIDGET (canvas)),
             gtk_widget_get_height (GTK_WIDGET (canvas)));

  v10k = view_10k (canvas);
  v100k = view_100k (canvas);

  /* For profiling one case: KP_BENCH_ONLY=10k, zoom, empty, 100k, empty100k,
   * visible100k or polygon. */
  if (g_getenv ("KP_BENCH_ONLY") != NULL)
    {
      const char *only = g_getenv ("KP_BENCH_ONLY");

      if (g_str_equal (only, "polygon"))
        {
          g_print ("BENCH only_polygon_ms %.3f ms\n", measure_vertex_drag (canvas, polygon_50k, &v10k));
          g_print ("# the same polygon, panned: %.3f ms\n",
                   measure_frames (canvas, NULL, &v10k, MOTION_PAN, MEASURED_FRAMES));
          return 0;
        }

      kp_canvas_set_document (canvas, g_str_equal (only, "100k") ? boxes_100k :
                                      g_str_equal (only, "visible100k") ? visible_only :
                                      g_str_has_prefix (only, "empty") ? empty : boxes_10k);
      if (g_str_equal (only, "empty100k") || g_str_equal (only, "visible100k"))
        only = "100k";
      g_print ("BENCH only_%s_ms %.3f ms\n", only,
               measure_frames (canvas, NULL, g_str_equal (only, "100k") ? &v100k : &v10k,
                               g_str_equal (only, "zoom") ? MOTION_ZOOM : MOTION_PAN,
                               MEASURED_FRAMES));
      g_print ("# snapshot %.3f ms\n",
               measure_snapshot (canvas, g_str_equal (only, "100k") ? &v100k : &v10k));
      return 0;
    }

  /* Alternate the cases, round after round, to share the machine's noise
   * fairly; each figure is the median of its rounds. */
  for (guint round = 0; round < ROUNDS; round++)
    {
      kp_canvas_set_document (canvas, empty);
      empty_runs[round] = measure_frames (canvas, NULL, &v10k, MOTION_PAN, MEASURED_FRAMES);
      empty_cpu[round] = last_cpu_ms;
      empty_zoomed_runs[round] = measure_frames (canvas, NULL, &v100k, MOTION_PAN, MEASURED_FRAMES);
      empty_zoomed_cpu[round] = last_cpu_ms;

      kp_canvas_set_document (canvas, boxes_10k);
      kp_canvas_set_selected_id (canvas, ((KpAnnotation *)g_ptr_array_index (kp_document_get_annotations (boxes_10k), 0))->id);
      pan_10k_runs[round] = measure_frames (canvas, NULL, &v10k, MOTION_PAN, MEASURED_FRAMES);
      pan_10k_cpu[round] = last_cpu_ms;
      if (round == 0)
        g_print ("# 10k: %u of %u boxes visible in a %dx%d canvas at zoom %.3f\n",
                 count_visible (canvas, boxes_10k), N_BOXES_10K,
                 gtk_widget_get_width (GTK_WIDGET (canvas)), gtk_widget_get_height (GTK_WIDGET (canvas)),
                 kp_canvas_get_zoom (canvas));
      drag_runs[round] = measure_frames (canvas, NULL, &v10k, MOTION_DRAG, MEASURED_FRAMES);
      drag_cpu[round] = last_cpu_ms;
      kp_canvas_set_selected_id (canvas, 0);
      zoom_runs[round] = measure_frames (canvas, NULL, &v10k, MOTION_ZOOM, MEASURED_FRAMES);

      kp_canvas_set_document (canvas, boxes_100k);
      pan_100k_runs[round] = measure_frames (canvas, NULL, &v100k, MOTION_PAN, MEASURED_FRAMES);
      pan_100k_cpu[round] = last_cpu_ms;
      if (round == 0)
        g_print ("# 100k: %u of %u boxes visible at zoom %.3f\n",
                 count_visible (canvas, boxes_100k), N_BOXES_100K, kp_canvas_get_zoom (canvas));
      kp_canvas_set_document (canvas, visible_only);
      visible_only_runs[round] = measure_frames (canvas, NULL, &v100k, MOTION_PAN, MEASURED_FRAMES);

      polygon_runs[round] = measure_vertex_drag (canvas, polygon_50k, &v10k);
      polygon_cpu[round] = last_cpu_ms;

      kp_canvas_set_document (canvas, boxes_1k);
      kp_canvas_set_selected_id (canvas, ((KpAnnotation *)g_ptr_array_index (kp_document_get_annotations (boxes_1k), 0))->id);
      frame_1k_runs[round] = measure_frames (canvas, NULL, &v10k, MOTION_PAN, MEASURED_FRAMES);
    }
  empty_ms = median_of (empty_runs);
  empty_zoomed_ms = median_of (empty_zoomed_runs);
  pan_10k_ms = median_of (pan_10k_runs);
  drag_ms = median_of (drag_runs);
  zoom_ms = median_of (zoom_runs);
  pan_100k_ms = median_of (pan_100k_runs);
  frame_1k_ms = median_of (frame_1k_runs);
  polygon_ms = median_of (polygon_runs);

  snapshot_1k_ms = measure_snapshot (canvas, &v10k);

  kp_canvas_set_document (canvas, boxes_100k);
  pick_ms = measure_pick (canvas);

  kp_canvas_set_document (canvas, boxes_10k);
  snapshot_10k_ms = measure_snapshot (canvas, &v10k);
  g_print ("# snapshot with 10,000 boxes and no tile cached (as after a zoom step): %.3f ms\n",
           measure_cold_snapshot (canvas, &v10k));

  kp_canvas_set_document (canvas, empty);
  gtk_widget_set_visible (naive_area, TRUE);
  naive_ms = measure_frames (canvas, naive_area, &v10k, MOTION_PAN, NAIVE_FRAMES);
  gtk_widget_set_visible (naive_area, FALSE);

  g_print ("# renderer %s\n", G_OBJECT_TYPE_NAME (gtk_native_get_renderer (GTK_NATIVE (window))));

  g_print ("BENCH canvas_empty_ms_baseline %.3f ms\n", empty_ms);
  g_print ("BENCH canvas_empty_zoomed_ms_baseline %.3f ms\n", empty_zoomed_ms);
  g_print ("BENCH canvas_10k_visible_ms_baseline %.3f ms\n", naive_ms);
  g_print ("BENCH canvas_100k_visible100_ms %.3f ms\n", pan_100k_ms);
  g_print ("BENCH canvas_pick_100k_ms %.5f ms\n", pick_ms);
  g_print ("BENCH canvas_drag_10k_visible_ms %.3f ms\n", drag_ms);
  g_print ("BENCH canvas_pan_10k_visible_ms %.3f ms\n", pan_10k_ms);
  g_print ("BENCH canvas_snapshot_10k_visible_ms %.3f ms\n", snapshot_10k_ms);
  g_print ("BENCH canvas_zoom_10k_visible_ms %.3f ms\n", zoom_ms);
  g_print ("BENCH polygon_50k_drag_ms %.3f ms\n", polygon_ms);
  /* The earlier names, same method. */
  g_print ("BENCH canvas_frame_1k_boxes_ms %.3f ms\n", frame_1k_ms);
  g_print ("BENCH canvas_frame_empty_ms_baseline %.3f ms\n", empty_ms);
  g_print ("BENCH canvas_snapshot_1k_boxes_ms %.3f ms\n", snapshot_1k_ms);

  print_ratio ("canvas_100k_visible100_ms", pan_100k_ms, empty_zoomed_ms, 1.2);
  print_ratio ("canvas_drag_10k_visible_ms", drag_ms, empty_ms, 1.5);
  print_ratio ("canvas_pan_10k_visible_ms", pan_10k_ms, empty_ms, 1.5);
  print_ratio ("canvas_zoom_10k_visible_ms", zoom_ms, empty_ms, 50.0 / empty_ms);
  print_ratio ("canvas_frame_1k_boxes_ms", frame_1k_ms, empty_ms, 1.5);
  print_ratio ("polygon_50k_drag_ms", polygon_ms, empty_ms, 1.5);
  print_round_ratios ("canvas_100k_visible100_ms", pan_100k_runs, empty_zoomed_runs, pan_100k_cpu, empty_zoomed_cpu);
  print_round_ratios ("canvas_drag_10k_visible_ms", drag_runs, empty_runs, drag_cpu, empty_cpu);
  print_round_ratios ("canvas_pan_10k_visible_ms", pan_10k_runs, empty_runs, pan_10k_cpu, empty_cpu);
  print_round_ratios ("polygon_50k_drag_ms", polygon_runs, empty_runs, polygon_cpu, empty_cpu);
  g_print ("BENCH canvas_10k_visible_ms_baseline_ratio %.3f\n", naive_ms / empty_ms);
  g_print ("# 100k against a document of only the %u boxes it shows: %.3f / %.3f = %.2f\n",
           kp_document_get_annotations (visible_only)->len, pan_100k_ms,
           median_of (visible_only_runs), pan_100k_ms / median_of (visible_only_runs));
  g_print ("# pan with 10,000 boxes against the naive cairo drawing: %.2f\n", pan_10k_ms / naive_ms);
  g_print ("# targets: pick <= 0.1 ms%s; snapshot <= 2 ms%s; zoom frame <= 50 ms%s\n",
           pick_ms <= 0.1 ? "" : " MISSED", snapshot_10k_ms <= 2 ? "" : " MISSED",
           zoom_ms <= 50 ? "" : " MISSED");

  kp_canvas_set_document (canvas, NULL);
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&boxes_1k);
  g_clear_object (&boxes_10k);
  g_clear_object (&boxes_100k);
  g_clear_object (&empty);
  g_clear_object (&visible_only);
  g_clear_object (&polygon_50k);
  g_clear_object (&store);
  remove_tree (folder);

  return 0;
}
