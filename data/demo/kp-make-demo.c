/* kp-make-demo.c: renders the demo project's images and annotates them
 *
 * Copyright 2026 The Kempelen authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage: kp-make-demo OUTPUT-FOLDER [STAMP-FILE]
 *
 * Draws a handful of scenes with cairo into OUTPUT-FOLDER, then creates the
 * project database there with the core store: labels, image sizes and hashes,
 * and boxes exactly around the objects it drew. Every run starts from an empty
 * database, so running it again never duplicates labels or boxes. The output
 * is the same on every run (fixed random seeds, no fonts).
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include <cairo.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "kp-core.h"

#define DEMO_WIDTH  1280
#define DEMO_HEIGHT 800

typedef enum
{
  LABEL_CAR,
  LABEL_PERSON,
  LABEL_TREE,
  LABEL_APPLE,
  LABEL_BOAT,
  LABEL_SIGN,
  LABEL_CUP,
  LABEL_BOOK,
  LABEL_MOON,
  N_LABELS
} DemoLabel;

static const struct
{
  const char *name;
  const char *color;
} demo_labels[N_LABELS] = {
  [LABEL_CAR]    = { "Car",            "#e01b24" },
  [LABEL_PERSON] = { "Person",         "#3584e4" },
  [LABEL_TREE]   = { "Tree",           "#2ec27e" },
  [LABEL_APPLE]  = { "Apple",          "#ff7800" },
  [LABEL_BOAT]   = { "Boat",           "#9141ac" },
  /* Not ASCII on purpose: the demo shows that label names may be any text. */
  [LABEL_SIGN]   = { "Verkehrsschild", "#f5c211" },
  [LABEL_CUP]    = { "Cup",            "#986a44" },
  [LABEL_BOOK]   = { "Book",           "#c061cb" },
  [LABEL_MOON]   = { "Moon",           "#99c1f1" },
};

typedef struct
{
  DemoLabel label;
  KpRect    rect;
} DemoBox;

typedef struct
{
  cairo_t  *cr;
  GRand    *rand;
  GArray   *boxes;              /* DemoBox */
  gboolean  tracking;
  double    x0, y0, x1, y1;     /* device-space extents of the tracked object */
} Scene;

typedef struct
{
  const char *file_name;
  guint32     seed;
  gboolean    done;
  void      (*draw) (Scene *scene);
} DemoScene;

/* Painting helpers. Between track_begin() and track_end(), every fill and
 * stroke adds its extents to the object's box, so boxes fit what was drawn. */

static void
track_begin (Scene *scene)
{
  scene->tracking = TRUE;
  scene->x0 = scene->y0 = G_MAXDOUBLE;
  scene->x1 = scene->y1 = -G_MAXDOUBLE;
}

static void
track_extents (Scene  *scene,
               double  x0,
               double  y0,
               double  x1,
               double  y1)
{
  double xs[4] = { x0, x1, x0, x1 };
  double ys[4] = { y0, y0, y1, y1 };

  if (!scene->tracking || x1 <= x0 || y1 <= y0)
    return;

  for (guint i = 0; i < 4; i++)
    {
      cairo_user_to_device (scene->cr, &xs[i], &ys[i]);
      scene->x0 = MIN (scene->x0, xs[i]);
      scene->y0 = MIN (scene->y0, ys[i]);
      scene->x1 = MAX (scene->x1, xs[i]);
      scene->y1 = MAX (scene->y1, ys[i]);
    }
}

static void
fill (Scene *scene)
{
  double x0, y0, x1, y1;

  cairo_fill_extents (scene->cr, &x0, &y0, &x1, &y1);
  track_extents (scene, x0, y0, x1, y1);
  cairo_fill (scene->cr);
}

static void
stroke (Scene *scene)
{
  double x0, y0, x1, y1;

  cairo_stroke_extents (scene->cr, &x0, &y0, &x1, &y1);
  track_extents (scene, x0, y0, x1, y1);
  cairo_stroke (scene->cr);
}

static void
track_end (Scene     *scene,
           DemoLabel  label)
{
  DemoBox box;
  double x0, y0, x1, y1;

  g_assert (scene->tracking);
  scene->tracking = FALSE;

  /* Whole pixels that cover the object, inside the image. */
  x0 = CLAMP (floor (scene->x0), 0, DEMO_WIDTH);
  y0 = CLAMP (floor (scene->y0), 0, DEMO_HEIGHT);
  x1 = CLAMP (ceil (scene->x1), 0, DEMO_WIDTH);
  y1 = CLAMP (ceil (scene->y1), 0, DEMO_HEIGHT);
  g_assert (x1 > x0 && y1 > y0);

  box.label = label;
  box.rect = kp_rect_from_points (x0, y0, x1, y1);
  g_array_append_val (scene->boxes, box);
}

static void
set_hex (cairo_t *cr,
         guint32  rgb)
{
  cairo_set_source_rgb (cr,
                        ((rgb >> 16) & 0xff) / 255.0,
                        ((rgb >> 8) & 0xff) / 255.0,
                        (rgb & 0xff) / 255.0);
}

static void
set_hex_alpha (cairo_t *cr,
               guint32  rgb,
               double   alpha)
{
  cairo_set_source_rgba (cr,
                         ((rgb >> 16) & 0xff) / 255.0,
                         ((rgb >> 8) & 0xff) / 255.0,
                         (rgb & 0xff) / 255.0,
                         alpha);
}

static void
add_stop (cairo_pattern_t *pattern,
          double           offset,
          guint32          rgb)
{
  cairo_pattern_add_color_stop_rgb (pattern, offset,
                                    ((rgb >> 16) & 0xff) / 255.0,
                                    ((rgb >> 8) & 0xff) / 255.0,
                                    (rgb & 0xff) / 255.0);
}

static void
rounded_rect (cairo_t *cr,
              double   x,
              double   y,
              double   w,
              double   h,
              double   r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static double
rand_range (Scene  *scene,
            double  lo,
            double  hi)
{
  return g_rand_double_range (scene->rand, lo, hi);
}

static void
paint_vertical_gradient (Scene   *scene,
                         double   y0,
                         double   y1,
                         guint32  top,
                         guint32  bottom)
{
  cairo_pattern_t *pattern = cairo_pattern_create_linear (0, y0, 0, y1);

  add_stop (pattern, 0, top);
  add_stop (pattern, 1, bottom);
  cairo_rectangle (scene->cr, 0, y0, DEMO_WIDTH, y1 - y0);
  cairo_set_source (scene->cr, pattern);
  cairo_fill (scene->cr);
  cairo_pattern_destroy (pattern);
}

static void
draw_cloud (Scene  *scene,
            double  x,
            double  y,
            double  size)
{
  cairo_t *cr = scene->cr;

  /* Painted as a group, so the overlapping puffs blend as one shape. */
  cairo_push_group (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_arc (cr, x, y, size * 0.5, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_arc (cr, x + size * 0.55, y - size * 0.2, size * 0.6, 0, 2 * G_PI);
  cairo_fill (cr);
  cairo_arc (cr, x + size * 1.15, y, size * 0.45, 0, 2 * G_PI);
  cairo_fill (cr);
  rounded_rect (cr, x, y - size * 0.1, size * 1.15, size * 0.55, size * 0.25);
  cairo_fill (cr);
  cairo_pop_group_to_source (cr);
  cairo_paint_with_alpha (cr, 0.88);
}

/* Objects. Each draws one thing standing on (x, ground) and records its box. */

static void
draw_car (Scene   *scene,
          double   x,
          double   ground,
          double   w,
          guint32  color,
          gboolean facing_left)
{
  cairo_t *cr = scene->cr;
  double h = w * 0.42;
  double wheel = w * 0.1;
  double body_top = ground - h * 0.55;
  double cabin_top = ground - h;

  cairo_save (cr);
  if (facing_left)
    {
      /* Mirror around the car's centre. */
      cairo_translate (cr, 2 * x + w, 0);
      cairo_scale (cr, -1, 1);
    }

  track_begin (scene);

  /* Cabin. */
  cairo_move_to (cr, x + w * 0.22, body_top);
  cairo_line_to (cr, x + w * 0.32, cabin_top);
  cairo_line_to (cr, x + w * 0.68, cabin_top);
  cairo_line_to (cr, x + w * 0.82, body_top);
  cairo_close_path (cr);
  set_hex (cr, color);
  fill (scene);

  /* Windows. */
  cairo_move_to (cr, x + w * 0.27, body_top - 2);
  cairo_line_to (cr, x + w * 0.345, cabin_top + h * 0.08);
  cairo_line_to (cr, x + w * 0.49, cabin_top + h * 0.08);
  cairo_line_to (cr, x + w * 0.49, body_top - 2);
  cairo_close_path (cr);
  cairo_move_to (cr, x + w * 0.52, body_top - 2);
  cairo_line_to (cr, x + w * 0.52, cabin_top + h * 0.08);
  cairo_line_to (cr, x + w * 0.665, cabin_top + h * 0.08);
  cairo_line_to (cr, x + w * 0.76, body_top - 2);
  cairo_close_path (cr);
  set_hex (cr, 0xc4e0f9);
  fill (scene);

  /* Body, with a lighter stripe. */
  rounded_rect (cr, x, body_top, w, h * 0.42, h * 0.12);
  set_hex (cr, color);
  fill (scene);
  cairo_rectangle (cr, x + w * 0.04, body_top + h * 0.12, w * 0.92, h * 0.04);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.35);
  fill (scene);

  /* Lights. */
  rounded_rect (cr, x + w - w * 0.05, body_top + h * 0.06, w * 0.045, h * 0.1, 2);
  set_hex (cr, 0xf9f06b);
  fill (scene);
  rounded_rect (cr, x + w * 0.005, body_top + h * 0.06, w * 0.035, h * 0.1, 2);
  set_hex (cr, 0xc01c28);
  fill (scene);

  /* Wheels touch the ground. */
  for (guint i = 0; i < 2; i++)
    {
      double cx = x + (i == 0 ? w * 0.22 : w * 0.78);

      cairo_arc (cr, cx, ground - wheel, wheel, 0, 2 * G_PI);
      set_hex (cr, 0x241f31);
      fill (scene);
      cairo_arc (cr, cx, ground - wheel, wheel * 0.45, 0, 2 * G_PI);
      set_hex (cr, 0x9a9996);
      fill (scene);
    }

  cairo_restore (cr);
  track_end (scene, LABEL_CAR);
}

static void
draw_person (Scene   *scene,
             double   x,
             double   ground,
             double   h,
             guint32  shirt,
             guint32  trousers,
             double   stride)
{
  cairo_t *cr = scene->cr;
  double head = h * 0.075;
  double shoulder = ground - h * 0.8;
  double hip = ground - h * 0.45;

  track_begin (scene);

  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);

  /* Legs. */
  cairo_set_line_width (cr, h * 0.075);
  set_hex (cr, trousers);
  cairo_move_to (cr, x - h * 0.03, hip);
  cairo_line_to (cr, x - h * 0.03 - stride * h * 0.12, ground - h * 0.04);
  stroke (scene);
  cairo_move_to (cr, x + h * 0.03, hip);
  cairo_line_to (cr, x + h * 0.03 + stride * h * 0.12, ground - h * 0.04);
  stroke (scene);

  /* Arms. */
  cairo_set_line_width (cr, h * 0.05);
  set_hex (cr, shirt);
  cairo_move_to (cr, x - h * 0.09, shoulder + h * 0.04);
  cairo_line_to (cr, x - h * 0.12 - stride * h * 0.06, hip + h * 0.02);
  stroke (scene);
  cairo_move_to (cr, x + h * 0.09, shoulder + h * 0.04);
  cairo_line_to (cr, x + h * 0.12 + stride * h * 0.06, hip + h * 0.02);
  stroke (scene);

  /* Torso. */
  rounded_rect (cr, x - h * 0.1, shoulder, h * 0.2, hip - shoulder + h * 0.04, h * 0.05);
  fill (scene);

  /* Head. */
  cairo_arc (cr, x, shoulder - head * 1.15, head, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, 0.93, 0.76, 0.6);
  fill (scene);
  cairo_arc (cr, x, shoulder - head * 1.35, head * 0.95, G_PI, 2 * G_PI);
  set_hex (cr, 0x63452c);
  fill (scene);

  track_end (scene, LABEL_PERSON);
}

static void
draw_tree (Scene   *scene,
           double   x,
           double   ground,
           double   h,
           guint32  leaves,
           gboolean track)
{
  cairo_t *cr = scene->cr;
  double crown = h * 0.3;
  double cy = ground - h + crown;

  if (track)
    track_begin (scene);

  cairo_move_to (cr, x - h * 0.05, ground);
  cairo_line_to (cr, x - h * 0.03, cy);
  cairo_line_to (cr, x + h * 0.03, cy);
  cairo_line_to (cr, x + h * 0.05, ground);
  cairo_close_path (cr);
  set_hex (cr, 0x63452c);
  fill (scene);

  set_hex (cr, leaves);
  cairo_arc (cr, x, cy, crown, 0, 2 * G_PI);
  fill (scene);
  cairo_arc (cr, x - crown * 0.6, cy + crown * 0.35, crown * 0.7, 0, 2 * G_PI);
  fill (scene);
  cairo_arc (cr, x + crown * 0.6, cy + crown * 0.3, crown * 0.72, 0, 2 * G_PI);
  fill (scene);

  /* Light from the upper left. */
  cairo_arc (cr, x - crown * 0.3, cy - crown * 0.3, crown * 0.45, 0, 2 * G_PI);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.12);
  fill (scene);

  if (track)
    track_end (scene, LABEL_TREE);
}

static void
draw_apple (Scene   *scene,
            double   cx,
            double   cy,
            double   r,
            guint32  color,
            gboolean track)
{
  cairo_t *cr = scene->cr;
  cairo_pattern_t *shade;

  if (track)
    track_begin (scene);

  /* Two lobes make the apple shape. */
  shade = cairo_pattern_create_radial (cx - r * 0.35, cy - r * 0.35, r * 0.1, cx, cy, r * 1.1);
  cairo_pattern_add_color_stop_rgb (shade, 0, 1, 1, 1);
  add_stop (shade, 0.25, color);
  cairo_pattern_add_color_stop_rgb (shade, 1,
                                    ((color >> 16) & 0xff) / 400.0,
                                    ((color >> 8) & 0xff) / 400.0,
                                    (color & 0xff) / 400.0);
  cairo_set_source (cr, shade);
  cairo_arc (cr, cx - r * 0.28, cy, r * 0.75, 0, 2 * G_PI);
  fill (scene);
  cairo_set_source (cr, shade);
  cairo_arc (cr, cx + r * 0.28, cy, r * 0.75, 0, 2 * G_PI);
  fill (scene);
  cairo_pattern_destroy (shade);

  /* Stem and leaf. */
  cairo_set_line_width (cr, MAX (1.5, r * 0.12));
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  set_hex (cr, 0x63452c);
  cairo_move_to (cr, cx, cy - r * 0.55);
  cairo_curve_to (cr, cx, cy - r * 0.8, cx + r * 0.1, cy - r * 0.95, cx + r * 0.2, cy - r * 1.05);
  stroke (scene);
  cairo_move_to (cr, cx + r * 0.1, cy - r * 0.8);
  cairo_curve_to (cr, cx + r * 0.4, cy - r * 1.15, cx + r * 0.75, cy - r * 0.95, cx + r * 0.8, cy - r * 0.85);
  cairo_curve_to (cr, cx + r * 0.55, cy - r * 0.65, cx + r * 0.3, cy - r * 0.7, cx + r * 0.1, cy - r * 0.8);
  set_hex (cr, 0x26a269);
  fill (scene);

  if (track)
    track_end (scene, LABEL_APPLE);
}

static void
draw_boat (Scene   *scene,
           double   x,
           double   water,
           double   w,
           guint32  hull,
           guint32  sail)
{
  cairo_t *cr = scene->cr;
  double hull_h = w * 0.18;

  track_begin (scene);

  /* Hull. */
  cairo_move_to (cr, x, water - hull_h);
  cairo_line_to (cr, x + w, water - hull_h);
  cairo_line_to (cr, x + w * 0.85, water + hull_h * 0.3);
  cairo_line_to (cr, x + w * 0.12, water + hull_h * 0.3);
  cairo_close_path (cr);
  set_hex (cr, hull);
  fill (scene);
  cairo_rectangle (cr, x + w * 0.03, water - hull_h * 0.75, w * 0.94, hull_h * 0.15);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.7);
  fill (scene);

  if (sail != 0)
    {
      /* Mast and two sails. */
      cairo_set_line_width (cr, MAX (2, w * 0.015));
      set_hex (cr, 0x5e5c64);
      cairo_move_to (cr, x + w * 0.45, water - hull_h);
      cairo_line_to (cr, x + w * 0.45, water - w * 1.0);
      stroke (scene);

      cairo_move_to (cr, x + w * 0.47, water - w * 0.97);
      cairo_line_to (cr, x + w * 0.47, water - hull_h * 1.3);
      cairo_line_to (cr, x + w * 0.9, water - hull_h * 1.3);
      cairo_close_path (cr);
      set_hex (cr, sail);
      fill (scene);
      cairo_move_to (cr, x + w * 0.43, water - w * 0.85);
      cairo_line_to (cr, x + w * 0.43, water - hull_h * 1.3);
      cairo_line_to (cr, x + w * 0.12, water - hull_h * 1.3);
      cairo_close_path (cr);
      set_hex (cr, 0xf6f5f4);
      fill (scene);
    }
  else
    {
      /* A motor boat: a small wheelhouse. */
      rounded_rect (cr, x + w * 0.45, water - hull_h * 2.2, w * 0.3, hull_h * 1.25, 3);
      set_hex (cr, 0xf6f5f4);
      fill (scene);
      cairo_rectangle (cr, x + w * 0.5, water - hull_h * 1.95, w * 0.2, hull_h * 0.45);
      set_hex (cr, 0x1a5fb4);
      fill (scene);
    }

  track_end (scene, LABEL_BOAT);
}

/* A triangular warning sign on a pole; the box covers the sign face only,
 * as it would in a traffic sign data set. */
static void
draw_sign (Scene  *scene,
           double  cx,
           double  ground,
           double  size)
{
  cairo_t *cr = scene->cr;
  double top = ground - size * 2.6;
  double h = size * 0.87;

  cairo_rectangle (cr, cx - size * 0.04, top + h * 0.5, size * 0.08, ground - top - h * 0.5);
  set_hex (cr, 0x9a9996);
  cairo_fill (cr);

  track_begin (scene);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_move_to (cr, cx, top);
  cairo_line_to (cr, cx + size / 2, top + h);
  cairo_line_to (cr, cx - size / 2, top + h);
  cairo_close_path (cr);
  cairo_set_line_width (cr, size * 0.08);
  set_hex (cr, 0xc01c28);
  cairo_fill_preserve (cr);
  stroke (scene);
  cairo_move_to (cr, cx, top + h * 0.22);
  cairo_line_to (cr, cx + size * 0.33, top + h * 0.86);
  cairo_line_to (cr, cx - size * 0.33, top + h * 0.86);
  cairo_close_path (cr);
  set_hex (cr, 0xffffff);
  fill (scene);

  /* An exclamation mark. */
  rounded_rect (cr, cx - size * 0.035, top + h * 0.38, size * 0.07, h * 0.28, size * 0.03);
  set_hex (cr, 0x241f31);
  fill (scene);
  cairo_arc (cr, cx, top + h * 0.76, size * 0.04, 0, 2 * G_PI);
  fill (scene);
  track_end (scene, LABEL_SIGN);
}

static void
draw_cup (Scene   *scene,
          double   cx,
          double   cy,
          double   r,
          guint32  color)
{
  cairo_t *cr = scene->cr;

  track_begin (scene);

  /* Handle, then the cup from above with its coffee. */
  cairo_set_line_width (cr, r * 0.22);
  set_hex (cr, color);
  cairo_arc (cr, cx + r * 1.05, cy, r * 0.35, -G_PI / 2, G_PI / 2);
  stroke (scene);

  cairo_arc (cr, cx, cy, r, 0, 2 * G_PI);
  set_hex (cr, color);
  fill (scene);
  cairo_arc (cr, cx, cy, r * 0.82, 0, 2 * G_PI);
  set_hex (cr, 0x63452c);
  fill (scene);
  cairo_arc (cr, cx - r * 0.2, cy - r * 0.2, r * 0.25, 0, 2 * G_PI);
  set_hex_alpha (cr, 0xcdab8f, 0.5);
  fill (scene);

  track_end (scene, LABEL_CUP);
}

static void
draw_book (Scene   *scene,
           double   x,
           double   y,
           double   w,
           double   h,
           guint32  cover)
{
  cairo_t *cr = scene->cr;

  track_begin (scene);

  /* Pages peek out on the right and bottom. */
  rounded_rect (cr, x + 6, y + 6, w, h, 4);
  set_hex (cr, 0xf6f5f4);
  fill (scene);
  rounded_rect (cr, x, y, w, h, 4);
  set_hex (cr, cover);
  fill (scene);
  cairo_rectangle (cr, x + w * 0.08, y, w * 0.04, h);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.2);
  fill (scene);
  rounded_rect (cr, x + w * 0.25, y + h * 0.15, w * 0.6, h * 0.15, 3);
  cairo_set_source_rgba (cr, 1, 1, 1, 0.8);
  fill (scene);

  track_end (scene, LABEL_BOOK);
}

static void
draw_house (Scene   *scene,
            double   x,
            double   ground,
            double   w,
            double   h,
            guint32  wall,
            guint32  roof,
            guint32  window)
{
  cairo_t *cr = scene->cr;

  cairo_rectangle (cr, x, ground - h, w, h);
  set_hex (cr, wall);
  cairo_fill (cr);
  cairo_move_to (cr, x - w * 0.08, ground - h);
  cairo_line_to (cr, x + w / 2, ground - h - w * 0.45);
  cairo_line_to (cr, x + w * 1.08, ground - h);
  cairo_close_path (cr);
  set_hex (cr, roof);
  cairo_fill (cr);

  for (guint row = 0; row < 2; row++)
    for (guint col = 0; col < 2; col++)
      {
        double wx = x + w * (0.15 + col * 0.45);
        double wy = ground - h + h * (0.12 + row * 0.42);

        cairo_rectangle (cr, wx, wy, w * 0.25, h * 0.25);
        set_hex (cr, window);
        cairo_fill (cr);
      }
}

/* Scenes. */

static void
draw_street (Scene *scene)
{
  cairo_t *cr = scene->cr;
  const guint32 facades[] = { 0xf9f06b, 0xdc8add, 0x99c1f1, 0xffbe6f, 0xdeddda, 0x8ff0a4 };
  double x = -20;

  paint_vertical_gradient (scene, 0, 480, 0x62a0ea, 0xc4e0f9);
  draw_cloud (scene, 150, 110, 80);
  draw_cloud (scene, 820, 80, 60);

  /* A row of houses. */
  for (guint i = 0; x < DEMO_WIDTH; i++)
    {
      double w = rand_range (scene, 170, 240);
      double h = rand_range (scene, 200, 330);

      cairo_rectangle (cr, x, 480 - h, w, h);
      set_hex (cr, facades[i % G_N_ELEMENTS (facades)]);
      cairo_fill (cr);
      for (double wy = 480 - h + 25; wy < 440; wy += 60)
        for (double wx = x + 22; wx + 30 < x + w - 10; wx += 50)
          {
            cairo_rectangle (cr, wx, wy, 30, 38);
            set_hex (cr, 0x3d3846);
            cairo_fill (cr);
          }
      x += w;
    }

  /* Pavement, road and markings. */
  cairo_rectangle (cr, 0, 480, DEMO_WIDTH, 70);
  set_hex (cr, 0xc0bfbc);
  cairo_fill (cr);
  cairo_rectangle (cr, 0, 550, DEMO_WIDTH, 250);
  set_hex (cr, 0x5e5c64);
  cairo_fill (cr);
  cairo_rectangle (cr, 0, 544, DEMO_WIDTH, 8);
  set_hex (cr, 0x9a9996);
  cairo_fill (cr);
  for (double mx = 20; mx < DEMO_WIDTH; mx += 140)
    {
      cairo_rectangle (cr, mx, 668, 80, 8);
      set_hex (cr, 0xf6f5f4);
      cairo_fill (cr);
    }

  draw_tree (scene, 1180, 530, 260, 0x33d17a, TRUE);
  draw_sign (scene, 80, 540, 90);
  draw_person (scene, 495, 540, 150, 0xe01b24, 0x1c71d8, 0.8);
  draw_person (scene, 1010, 535, 140, 0x2ec27e, 0x3d3846, -0.5);
  draw_car (scene, 140, 650, 300, 0x1c71d8, FALSE);
  draw_car (scene, 560, 650, 260, 0xe66100, FALSE);
  draw_car (scene, 850, 770, 340, 0xc01c28, TRUE);
}

static void
draw_orchard (Scene *scene)
{
  cairo_t *cr = scene->cr;
  const double trees[][2] = { { 250, 250 }, { 640, 230 }, { 1030, 260 } };

  paint_vertical_gradient (scene, 0, 420, 0x99c1f1, 0xf6f5f4);
  cairo_arc (cr, 1120, 110, 55, 0, 2 * G_PI);
  set_hex (cr, 0xf8e45c);
  cairo_fill (cr);
  draw_cloud (scene, 380, 120, 70);

  /* Rolling hills in three shades. */
  cairo_move_to (cr, 0, 420);
  cairo_curve_to (cr, 300, 340, 700, 380, 1280, 330);
  cairo_line_to (cr, 1280, 800);
  cairo_line_to (cr, 0, 800);
  cairo_close_path (cr);
  set_hex (cr, 0x8ff0a4);
  cairo_fill (cr);
  cairo_move_to (cr, 0, 560);
  cairo_curve_to (cr, 400, 500, 800, 560, 1280, 500);
  cairo_line_to (cr, 1280, 800);
  cairo_line_to (cr, 0, 800);
  cairo_close_path (cr);
  set_hex (cr, 0x57e389);
  cairo_fill (cr);

  /* Grass. */
  cairo_set_line_width (cr, 2);
  for (guint i = 0; i < 500; i++)
    {
      double gx = rand_range (scene, 0, DEMO_WIDTH);
      double gy = rand_range (scene, 600, 800);

      cairo_move_to (cr, gx, gy);
      cairo_line_to (cr, gx + rand_range (scene, -6, 6), gy - rand_range (scene, 8, 18));
      set_hex (cr, 0x26a269);
      cairo_stroke (cr);
    }

  for (guint t = 0; t < G_N_ELEMENTS (trees); t++)
    {
      double tx = trees[t][0];
      double ground = 560 + t * 30;
      double h = 430;
      double crown = h * 0.3;
      double cy = ground - h + crown;

      draw_tree (scene, tx, ground, h, 0x26a269, TRUE);

      /* Apples in the crown; a few are big enough to be worth a box. */
      for (guint a = 0; a < 9; a++)
        {
          double ax = tx + rand_range (scene, -crown * 1.1, crown * 1.1);
          double ay = cy + rand_range (scene, -crown * 0.7, crown * 0.7);
          guint32 color = a % 4 == 3 ? 0xf6d32d : 0xe01b24;

          draw_apple (scene, ax, ay, 14, color, a < 2);
        }
    }

  /* Fallen apples and a basket. */
  draw_apple (scene, 470, 700, 26, 0xe01b24, TRUE);
  draw_apple (scene, 850, 730, 24, 0xf6d32d, TRUE);
  rounded_rect (cr, 560, 680, 150, 90, 18);
  set_hex (cr, 0xb5835a);
  cairo_fill (cr);
  cairo_set_line_width (cr, 3);
  set_hex (cr, 0x865e3c);
  for (double bx = 580; bx < 700; bx += 22)
    {
      cairo_move_to (cr, bx, 684);
      cairo_line_to (cr, bx, 766);
      cairo_stroke (cr);
    }
}

static void
draw_harbour (Scene *scene)
{
  cairo_t *cr = scene->cr;

  paint_vertical_gradient (scene, 0, 430, 0xffbe6f, 0xf9f06b);
  cairo_arc (cr, 640, 430, 90, G_PI, 2 * G_PI);
  set_hex (cr, 0xff7800);
  cairo_fill (cr);
  paint_vertical_gradient (scene, 430, 800, 0x1a5fb4, 0x0b2e5c);

  /* Waves. */
  cairo_set_line_width (cr, 3);
  for (guint i = 0; i < 90; i++)
    {
      double wx = rand_range (scene, 0, DEMO_WIDTH);
      double wy = rand_range (scene, 445, 800);
      double ww = rand_range (scene, 20, 60) * (wy / 500);

      cairo_move_to (cr, wx, wy);
      cairo_curve_to (cr, wx + ww / 3, wy - 6, wx + 2 * ww / 3, wy - 6, wx + ww, wy);
      cairo_set_source_rgba (cr, 1, 1, 1, 0.25);
      cairo_stroke (cr);
    }

  /* A lighthouse on a rock, a pier on the right. */
  cairo_move_to (cr, 20, 440);
  cairo_curve_to (cr, 60, 380, 200, 380, 240, 440);
  cairo_close_path (cr);
  set_hex (cr, 0x5e5c64);
  cairo_fill (cr);
  cairo_move_to (cr, 110, 395);
  cairo_line_to (cr, 120, 200);
  cairo_line_to (cr, 160, 200);
  cairo_line_to (cr, 170, 395);
  cairo_close_path (cr);
  set_hex (cr, 0xf6f5f4);
  cairo_fill (cr);
  for (double sy = 230; sy < 390; sy += 60)
    {
      cairo_rectangle (cr, 110, sy, 60, 25);
      set_hex (cr, 0xe01b24);
      cairo_fill (cr);
    }
  cairo_rectangle (cr, 115, 170, 50, 30);
  set_hex (cr, 0xf8e45c);
  cairo_fill (cr);
  cairo_move_to (cr, 110, 170);
  cairo_line_to (cr, 140, 145);
  cairo_line_to (cr, 170, 170);
  cairo_close_path (cr);
  set_hex (cr, 0x3d3846);
  cairo_fill (cr);

  cairo_rectangle (cr, 980, 560, 300, 28);
  set_hex (cr, 0x865e3c);
  cairo_fill (cr);
  for (double px = 995; px < DEMO_WIDTH; px += 70)
    {
      cairo_rectangle (cr, px, 588, 14, 120);
      set_hex (cr, 0x63452c);
      cairo_fill (cr);
    }

  draw_person (scene, 1150, 560, 120, 0xf6d32d, 0x241f31, 0.1);
  draw_boat (scene, 330, 500, 200, 0xf6f5f4, 0xe01b24);
  draw_boat (scene, 640, 600, 260, 0x9141ac, 0);
  draw_boat (scene, 180, 720, 320, 0x1c71d8, 0xf6d32d);
}

static void
draw_desk (Scene *scene)
{
  cairo_t *cr = scene->cr;
  cairo_pattern_t *wood;

  /* A wooden desk seen from above, planks running across. */
  wood = cairo_pattern_create_linear (0, 0, DEMO_WIDTH, DEMO_HEIGHT);
  add_stop (wood, 0, 0xcdab8f);
  add_stop (wood, 1, 0xb5835a);
  cairo_rectangle (cr, 0, 0, DEMO_WIDTH, DEMO_HEIGHT);
  cairo_set_source (cr, wood);
  cairo_fill (cr);
  cairo_pattern_destroy (wood);
  cairo_set_line_width (cr, 2);
  for (double py = 0; py < DEMO_HEIGHT; py += 160)
    {
      cairo_move_to (cr, 0, py);
      cairo_line_to (cr, DEMO_WIDTH, py);
      set_hex_alpha (cr, 0x63452c, 0.5);
      cairo_stroke (cr);
    }
  for (guint i = 0; i < 60; i++)
    {
      double gy = rand_range (scene, 0, DEMO_HEIGHT);
      double gx = rand_range (scene, 0, DEMO_WIDTH);

      cairo_move_to (cr, gx, gy);
      cairo_curve_to (cr, gx + 80, gy - 4, gx + 160, gy + 4, gx + 260, gy);
      set_hex_alpha (cr, 0x865e3c, 0.35);
      cairo_stroke (cr);
    }

  /* A laptop, a pencil and a sheet of paper (not labelled). */
  rounded_rect (cr, 420, 180, 460, 300, 16);
  set_hex (cr, 0x3d3846);
  cairo_fill (cr);
  rounded_rect (cr, 440, 200, 420, 260, 8);
  set_hex (cr, 0x241f31);
  cairo_fill (cr);
  for (guint r = 0; r < 5; r++)
    for (guint c = 0; c < 12; c++)
      {
        rounded_rect (cr, 455 + c * 34, 225 + r * 40, 28, 32, 4);
        set_hex (cr, 0x5e5c64);
        cairo_fill (cr);
      }
  cairo_save (cr);
  cairo_translate (cr, 1000, 600);
  cairo_rotate (cr, -0.4);
  cairo_rectangle (cr, -120, -8, 220, 16);
  set_hex (cr, 0xf6d32d);
  cairo_fill (cr);
  cairo_move_to (cr, 100, -8);
  cairo_line_to (cr, 130, 0);
  cairo_line_to (cr, 100, 8);
  cairo_close_path (cr);
  set_hex (cr, 0xcdab8f);
  cairo_fill (cr);
  cairo_restore (cr);
  cairo_rectangle (cr, 960, 80, 240, 320);
  set_hex (cr, 0xffffff);
  cairo_fill (cr);
  cairo_set_line_width (cr, 3);
  for (double ly = 130; ly < 380; ly += 30)
    {
      cairo_move_to (cr, 985, ly);
      cairo_line_to (cr, 1175 - (ly > 340 ? 80 : 0), ly);
      set_hex (cr, 0x99c1f1);
      cairo_stroke (cr);
    }

  draw_cup (scene, 230, 200, 80, 0xf6f5f4);
  draw_cup (scene, 760, 620, 60, 0x1c71d8);
  draw_book (scene, 90, 480, 240, 300, 0x26a269);
  draw_book (scene, 420, 560, 180, 220, 0xc01c28);
  draw_apple (scene, 1100, 690, 55, 0xe01b24, TRUE);
}

static void
draw_night (Scene *scene)
{
  cairo_t *cr = scene->cr;
  cairo_pattern_t *glow;
  const guint32 walls[] = { 0x3d3846, 0x4a3f5c, 0x2d2a3a, 0x433a4f };

  paint_vertical_gradient (scene, 0, DEMO_HEIGHT, 0x0b1026, 0x3a3f75);

  /* Stars. */
  for (guint i = 0; i < 260; i++)
    {
      double sx = rand_range (scene, 0, DEMO_WIDTH);
      double sy = rand_range (scene, 0, 560);

      cairo_arc (cr, sx, sy, rand_range (scene, 0.6, 2.2), 0, 2 * G_PI);
      cairo_set_source_rgba (cr, 1, 1, 0.9, rand_range (scene, 0.4, 1.0));
      cairo_fill (cr);
    }

  /* The moon, with its glow outside the box. */
  glow = cairo_pattern_create_radial (960, 170, 60, 960, 170, 200);
  cairo_pattern_add_color_stop_rgba (glow, 0, 1, 1, 0.85, 0.35);
  cairo_pattern_add_color_stop_rgba (glow, 1, 1, 1, 0.85, 0);
  cairo_arc (cr, 960, 170, 200, 0, 2 * G_PI);
  cairo_set_source (cr, glow);
  cairo_fill (cr);
  cairo_pattern_destroy (glow);

  track_begin (scene);
  cairo_arc (cr, 960, 170, 70, 0, 2 * G_PI);
  set_hex (cr, 0xfaf7e1);
  fill (scene);
  set_hex_alpha (cr, 0xc0bfbc, 0.6);
  cairo_arc (cr, 935, 150, 14, 0, 2 * G_PI);
  fill (scene);
  cairo_arc (cr, 985, 195, 20, 0, 2 * G_PI);
  fill (scene);
  cairo_arc (cr, 990, 140, 8, 0, 2 * G_PI);
  fill (scene);
  track_end (scene, LABEL_MOON);

  /* A hill with houses whose windows are lit. */
  cairo_move_to (cr, 0, 620);
  cairo_curve_to (cr, 400, 560, 900, 600, 1280, 570);
  cairo_line_to (cr, 1280, 800);
  cairo_line_to (cr, 0, 800);
  cairo_close_path (cr);
  set_hex (cr, 0x1e2a1e);
  cairo_fill (cr);
  for (guint i = 0; i < 4; i++)
    draw_house (scene, 120 + i * 250, 680 + (i % 2) * 20, 150, 130,
                walls[i], 0x241f31, i == 2 ? 0x3d3846 : 0xf8e45c);

  draw_tree (scene, 60, 720, 300, 0x1f3b2b, TRUE);
  draw_tree (scene, 1150, 700, 360, 0x16301f, TRUE);
}

static void
draw_park (Scene *scene)
{
  cairo_t *cr = scene->cr;

  /* Left unannotated, for the user to try the tools on. */
  paint_vertical_gradient (scene, 0, 380, 0x3584e4, 0xa3c8f0);
  draw_cloud (scene, 700, 90, 90);
  draw_cloud (scene, 180, 160, 50);
  paint_vertical_gradient (scene, 380, DEMO_HEIGHT, 0x8ff0a4, 0x2ec27e);

  /* A winding path. */
  cairo_move_to (cr, 560, 380);
  cairo_curve_to (cr, 520, 500, 900, 560, 760, 800);
  cairo_line_to (cr, 1040, 800);
  cairo_curve_to (cr, 1100, 560, 640, 500, 620, 380);
  cairo_close_path (cr);
  set_hex (cr, 0xdeddda);
  cairo_fill (cr);

  /* A pond. */
  cairo_save (cr);
  cairo_translate (cr, 260, 610);
  cairo_scale (cr, 200, 70);
  cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
  cairo_restore (cr);
  set_hex (cr, 0x62a0ea);
  cairo_fill (cr);

  for (guint i = 0; i < 5; i++)
    draw_tree (scene, 100 + i * 270 + rand_range (scene, -30, 30), 420 + (i % 2) * 15,
               rand_range (scene, 220, 300), i % 2 ? 0x26a269 : 0x33d17a, FALSE);

  /* A bench. */
  cairo_rectangle (cr, 960, 600, 200, 16);
  cairo_rectangle (cr, 960, 570, 200, 14);
  set_hex (cr, 0x865e3c);
  cairo_fill (cr);
  cairo_rectangle (cr, 975, 616, 10, 40);
  cairo_rectangle (cr, 1135, 616, 10, 40);
  set_hex (cr, 0x3d3846);
  cairo_fill (cr);

  draw_person (scene, 700, 560, 160, 0x9141ac, 0x3d3846, 0.6);
  draw_person (scene, 820, 700, 190, 0xffa348, 0x1a5fb4, -0.7);
  /* These boxes are not stored: the park stays to do. */
  g_array_set_size (scene->boxes, 0);
}

static const DemoScene demo_scenes[] = {
  { "01-street.png",  0x5713, TRUE,  draw_street },
  { "02-orchard.png", 0xa991, FALSE, draw_orchard },
  { "03-harbour.png", 0x4a7b, FALSE, draw_harbour },
  { "04-desk.png",    0xd35c, TRUE,  draw_desk },
  { "05-night.png",   0x0917, FALSE, draw_night },
  { "06-park.png",    0x7e11, FALSE, draw_park },
};

/* Renders one scene to FOLDER/file_name; returns its boxes. */
static GArray *
render_scene (const DemoScene  *demo,
              const char       *folder,
              GError          **error)
{
  g_autofree char *path = g_build_filename (folder, demo->file_name, NULL);
  g_autoptr(GArray) boxes = g_array_new (FALSE, FALSE, sizeof (DemoBox));
  cairo_surface_t *surface;
  cairo_status_t status;
  Scene scene = { 0 };

  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, DEMO_WIDTH, DEMO_HEIGHT);
  scene.cr = cairo_create (surface);
  scene.rand = g_rand_new_with_seed (demo->seed);
  scene.boxes = boxes;

  cairo_set_source_rgb (scene.cr, 1, 1, 1);
  cairo_paint (scene.cr);
  demo->draw (&scene);
  g_assert (!scene.tracking);

  status = cairo_status (scene.cr);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png (surface, path);

  cairo_destroy (scene.cr);
  cairo_surface_destroy (surface);
  g_rand_free (scene.rand);

  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "Could not write %s: %s", path, cairo_status_to_string (status));
      return NULL;
    }

  return g_steal_pointer (&boxes);
}

static char *
hash_file (const char  *path,
           GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *hex = NULL;
  gsize length;

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)contents, length);
  return g_strconcat ("sha256:", hex, NULL);
}

/* Deletes FOLDER/.kempelen and everything in it, so the store starts empty. */
static gboolean
delete_tree (GFile   *file,
             GError **error)
{
  g_autoptr(GFileEnumerator) children = NULL;
  g_autoptr(GError) local_error = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS,
                                        NULL, &local_error);
  if (children != NULL)
    {
      for (;;)
        {
          GFileInfo *info;
          GFile *child;

          if (!g_file_enumerator_iterate (children, &info, &child, NULL, error))
            return FALSE;
          if (info == NULL)
            break;
          if (!delete_tree (child, error))
            return FALSE;
        }
    }
  else if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  return g_file_delete (file, NULL, error);
}

static gboolean
make_demo (const char  *folder,
           GError     **error)
{
  g_autoptr(GFile) store_dir = NULL;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) scene_boxes = g_ptr_array_new_with_free_func ((GDestroyNotify)g_array_unref);
  gint64 label_ids[N_LABELS];

  if (g_mkdir_with_parents (folder, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not create %s: %s", folder, g_strerror (saved_errno));
      return FALSE;
    }

  store_dir = g_file_new_build_filename (folder, KP_STORE_DIRNAME, NULL);
  if (!delete_tree (store_dir, error))
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (demo_scenes); i++)
    {
      GArray *boxes = render_scene (&demo_scenes[i], folder, error);

      if (boxes == NULL)
        return FALSE;
      g_ptr_array_add (scene_boxes, boxes);
    }

  store = kp_store_open (folder, error);
  if (store == NULL)
    return FALSE;
  if (!kp_store_scan (store, NULL, error))
    return FALSE;

  for (guint i = 0; i < N_LABELS; i++)
    {
      label_ids[i] = kp_store_add_label (store, demo_labels[i].name, demo_labels[i].color,
                                         i + 1, error);
      if (label_ids[i] == 0)
        return FALSE;
    }

  media = kp_store_list_media (store, error);
  if (media == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (demo_scenes); i++)
    {
      const DemoScene *demo = &demo_scenes[i];
      GArray *boxes = g_ptr_array_index (scene_boxes, i);
      g_autofree char *path = g_build_filename (folder, demo->file_name, NULL);
      g_autofree char *hash = NULL;
      const KpMedia *found = NULL;

      for (guint j = 0; j < media->len; j++)
        {
          const KpMedia *m = g_ptr_array_index (media, j);

          if (g_strcmp0 (m->path, demo->file_name) == 0)
            found = m;
        }
      if (found == NULL)
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                       "The scan did not find %s", demo->file_name);
          return FALSE;
        }

      hash = hash_file (path, error);
      if (hash == NULL)
        return FALSE;
      if (!kp_store_set_media_info (store, found->id, hash, DEMO_WIDTH, DEMO_HEIGHT, error))
        return FALSE;

      for (guint b = 0; b < boxes->len; b++)
        {
          const DemoBox *box = &g_array_index (boxes, DemoBox, b);
          KpAnnotation annotation = {
            .media_id = found->id,
            .label_id = label_ids[box->label],
            .shape = KP_SHAPE_BOX,
            .rect = box->rect,
          };

          if (kp_store_add_annotation (store, &annotation, error) == 0)
            return FALSE;
        }

      if (demo->done && !kp_store_set_media_done (store, found->id, TRUE, error))
        return FALSE;
    }

  return TRUE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;

  if (argc < 2 || argc > 3)
    {
      g_printerr ("Usage: %s OUTPUT-FOLDER [STAMP-FILE]\n", g_get_prgname () ? g_get_prgname () : argv[0]);
      return 2;
    }

  if (!make_demo (argv[1], &error))
    {
      g_printerr ("kp-make-demo: %s\n", error->message);
      return EXIT_FAILURE;
    }

  if (argc == 3 && !g_file_set_contents (argv[2], "", 0, &error))
    {
      g_printerr ("kp-make-demo: %s\n", error->message);
      return EXIT_FAILURE;
    }

  return EXIT_SUCCESS;
}
