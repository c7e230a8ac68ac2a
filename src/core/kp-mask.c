/* kp-mask.c: per-object raster masks, run-length encoded
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-mask.h"

#include <math.h>
#include <string.h>

/* No mask is bigger than this many pixels (a 46k × 46k image). */
#define MAX_PIXELS ((guint64)1 << 31)

KpMask *
kp_mask_new_empty (void)
{
  return g_new0 (KpMask, 1);
}

void
kp_mask_free (KpMask *mask)
{
  if (mask == NULL)
    return;

  g_free (mask->counts);
  g_free (mask);
}

KpMask *
kp_mask_copy (const KpMask *mask)
{
  KpMask *copy;

  g_return_val_if_fail (mask != NULL, NULL);

  copy = g_new (KpMask, 1);
  *copy = *mask;
  copy->counts = g_memdup2 (mask->counts, mask->n_counts * sizeof (guint32));

  return copy;
}

gboolean
kp_mask_equal (const KpMask *a,
               const KpMask *b)
{
  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL)
    return FALSE;

  return a->x == b->x && a->y == b->y && a->width == b->width && a->height == b->height &&
         a->n_counts == b->n_counts &&
         (a->n_counts == 0 || memcmp (a->counts, b->counts, a->n_counts * sizeof (guint32)) == 0);
}

gboolean
kp_mask_is_empty (const KpMask *mask)
{
  return mask == NULL || mask->width == 0 || mask->height == 0;
}

KpRect
kp_mask_get_bounds (const KpMask *mask)
{
  if (kp_mask_is_empty (mask))
    return (KpRect) { mask != NULL ? mask->x : 0, mask != NULL ? mask->y : 0, 0, 0 };

  return (KpRect) { mask->x, mask->y, mask->width, mask->height };
}

guint64
kp_mask_get_area (const KpMask *mask)
{
  guint64 area = 0;

  g_return_val_if_fail (mask != NULL, 0);

  for (guint i = 1; i < mask->n_counts; i += 2)
    area += mask->counts[i];

  return area;
}

guint8 *
kp_mask_to_bitmap (const KpMask *mask)
{
  guint64 n, pos = 0;
  guint8 *bits;

  g_return_val_if_fail (mask != NULL, NULL);

  n = (guint64)mask->width * mask->height;
  bits = g_malloc0 (MAX (n, 1));
  for (guint i = 0; i < mask->n_counts; i++)
    {
      guint64 run = MIN ((guint64)mask->counts[i], n - pos);

      if (i % 2 == 1)
        memset (bits + pos, 1, run);
      pos += run;
    }

  return bits;
}

gboolean
kp_mask_get (const KpMask *mask,
             int           image_x,
             int           image_y)
{
  guint64 target, pos = 0;

  g_return_val_if_fail (mask != NULL, FALSE);

  if (image_x < mask->x || image_y < mask->y ||
      image_x >= mask->x + mask->width || image_y >= mask->y + mask->height)
    return FALSE;

  target = (guint64)(image_y - mask->y) * mask->width + (image_x - mask->x);
  for (guint i = 0; i < mask->n_counts; i++)
    {
      pos += mask->counts[i];
      if (target < pos)
        return i % 2 == 1;
    }

  return FALSE;
}

/* Encodes a bitmap that is already cropped. */
static KpMask *
encode (int           x,
        int           y,
        int           width,
        int           height,
        const guint8 *bits,
        gsize         stride)
{
  g_autoptr(GArray) counts = g_array_new (FALSE, FALSE, sizeof (guint32));
  KpMask *mask = g_new0 (KpMask, 1);
  gboolean current = FALSE;
  guint32 run = 0;

  mask->x = x;
  mask->y = y;
  mask->width = width;
  mask->height = height;

  for (int r = 0; r < height; r++)
    for (int c = 0; c < width; c++)
      {
        gboolean v = bits[(gsize)r * stride + c] != 0;

        if (v != current)
          {
            g_array_append_val (counts, run);
            run = 0;
            current = v;
          }
        run++;
      }
  if (width > 0 && height > 0)
    g_array_append_val (counts, run);

  mask->n_counts = counts->len;
  mask->counts = (guint32 *)(void *)g_array_free (g_steal_pointer (&counts), FALSE);

  return mask;
}

KpMask *
kp_mask_new_from_bitmap (int           x,
                         int           y,
                         int           width,
                         int           height,
                         const guint8 *bits)
{
  int x0 = width, y0 = height, x1 = -1, y1 = -1;

  g_return_val_if_fail (width >= 0 && height >= 0, NULL);
  g_return_val_if_fail (bits != NULL || width * height == 0, NULL);

  for (int r = 0; r < height; r++)
    for (int c = 0; c < width; c++)
      if (bits[(gsize)r * width + c])
        {
          x0 = MIN (x0, c);
          x1 = MAX (x1, c);
          y0 = MIN (y0, r);
          y1 = MAX (y1, r);
        }

  if (x1 < 0)
    {
      KpMask *empty = kp_mask_new_empty ();

      empty->x = x;
      empty->y = y;
      return empty;
    }

  return encode (x + x0, y + y0, x1 - x0 + 1, y1 - y0 + 1,
                 bits + (gsize)y0 * width + x0, width);
}

KpMask *
kp_mask_new_from_counts (int            x,
                         int            y,
                         int            width,
                         int            height,
                         const guint32 *counts,
                         guint          n_counts)
{
  guint64 sum = 0;
  KpMask *mask;

  if (width < 0 || height < 0 || (guint64)width * height > MAX_PIXELS)
    return NULL;

  for (guint i = 0; i < n_counts; i++)
    sum += counts[i];
  if (sum != (guint64)width * height)
    return NULL;

  mask = g_new0 (KpMask, 1);
  mask->x = x;
  mask->y = y;
  mask->width = width;
  mask->height = height;
  mask->n_counts = n_counts;
  mask->counts = g_memdup2 (counts, n_counts * sizeof (guint32));

  return mask;
}

KpMask *
kp_mask_translate (const KpMask *mask,
                   int           dx,
                   int           dy)
{
  KpMask *copy = kp_mask_copy (mask);

  copy->x += dx;
  copy->y += dy;

  return copy;
}

/* A bitmap covering both the mask and the area x0..x1, y0..y1 (inclusive
 * pixel indices), with the mask drawn in it. */
static guint8 *
grow (const KpMask *mask,
      int           x0,
      int           y0,
      int           x1,
      int           y1,
      int          *out_x,
      int          *out_y,
      int          *out_w,
      int          *out_h)
{
  guint8 *bits;
  int w, h;

  if (!kp_mask_is_empty (mask))
    {
      x0 = MIN (x0, mask->x);
      y0 = MIN (y0, mask->y);
      x1 = MAX (x1, mask->x + mask->width - 1);
      y1 = MAX (y1, mask->y + mask->height - 1);
    }

  w = MAX (x1 - x0 + 1, 0);
  h = MAX (y1 - y0 + 1, 0);
  if ((guint64)w * h > MAX_PIXELS)
    return NULL;

  bits = g_malloc0 (MAX ((gsize)w * h, 1));
  if (!kp_mask_is_empty (mask))
    {
      g_autofree guint8 *old = kp_mask_to_bitmap (mask);

      for (int r = 0; r < mask->height; r++)
        memcpy (bits + (gsize)(r + mask->y - y0) * w + (mask->x - x0),
                old + (gsize)r * mask->width, mask->width);
    }

  *out_x = x0;
  *out_y = y0;
  *out_w = w;
  *out_h = h;

  return bits;
}

KpMask *
kp_mask_paint_circle (const KpMask *mask,
                      double        cx,
                      double        cy,
                      double        radius,
                      gboolean      value)
{
  g_autofree guint8 *bits = NULL;
  int x0, y0, x1, y1, bx, by, bw, bh;

  if (!isfinite (cx) || !isfinite (cy) || !isfinite (radius) || radius <= 0)
    return mask != NULL ? kp_mask_copy (mask) : kp_mask_new_empty ();

  x0 = (int)floor (cx - radius - 0.5);
  y0 = (int)floor (cy - radius - 0.5);
  x1 = (int)ceil (cx + radius - 0.5);
  y1 = (int)ceil (cy + radius - 0.5);

  /* The eraser never grows the mask. */
  if (!value)
    {
      if (kp_mask_is_empty (mask))
        return mask != NULL ? kp_mask_copy (mask) : kp_mask_new_empty ();
      x0 = mask->x;
      y0 = mask->y;
      x1 = mask->x + mask->width - 1;
      y1 = mask->y + mask->height - 1;
    }

  bits = grow (mask, x0, y0, x1, y1, &bx, &by, &bw, &bh);
  if (bits == NULL)
    return kp_mask_copy (mask);

  for (int r = 0; r < bh; r++)
    for (int c = 0; c < bw; c++)
      {
        double px = bx + c + 0.5 - cx;
        double py = by + r + 0.5 - cy;

        if (px * px + py * py <= radius * radius)
          bits[(gsize)r * bw + c] = value ? 1 : 0;
      }

  return kp_mask_new_from_bitmap (bx, by, bw, bh, bits);
}

KpMask *
kp_mask_paint_polygon (const KpMask  *mask,
                       const KpPoint *points,
                       guint          n_points,
                       gboolean       value)
{
  g_autofree guint8 *bits = NULL;
  g_autofree double *xs = NULL;
  KpRect bounds;
  int x0, y0, x1, y1, bx, by, bw, bh;

  if (n_points < 3 || points == NULL)
    return mask != NULL ? kp_mask_copy (mask) : kp_mask_new_empty ();

  for (guint i = 0; i < n_points; i++)
    if (!isfinite (points[i].x) || !isfinite (points[i].y))
      return mask != NULL ? kp_mask_copy (mask) : kp_mask_new_empty ();

  bounds = kp_points_bounds (points, n_points);
  x0 = (int)floor (bounds.x);
  y0 = (int)floor (bounds.y);
  x1 = (int)ceil (bounds.x + bounds.width);
  y1 = (int)ceil (bounds.y + bounds.height);
  if (!value)
    {
      if (kp_mask_is_empty (mask))
        return mask != NULL ? kp_mask_copy (mask) : kp_mask_new_empty ();
      x0 = mask->x;
      y0 = mask->y;
      x1 = mask->x + mask->width - 1;
      y1 = mask->y + mask->height - 1;
    }

  bits = grow (mask, x0, y0, x1, y1, &bx, &by, &bw, &bh);
  if (bits == NULL)
    return kp_mask_copy (mask);

  /* Scanline fill at pixel centres: the crossings of each row with the
   * edges, sorted, bound the runs inside. */
  xs = g_new (double, n_points);
  for (int r = 0; r < bh; r++)
    {
      double y = by + r + 0.5;
      guint n = 0;

      for (guint i = 0, j = n_points - 1; i < n_points; j = i++)
        {
          const KpPoint *a = &points[i];
          const KpPoint *b = &points[j];

          if ((a->y > y) != (b->y > y))
            xs[n++] = a->x + (y - a->y) * (b->x - a->x) / (b->y - a->y);
        }

      for (guint i = 1; i < n; i++)
        for (guint k = i; k > 0 && xs[k - 1] > xs[k]; k--)
          {
            double t = xs[k];
            xs[k] = xs[k - 1];
            xs[k - 1] = t;
          }

      for (guint i = 0; i + 1 < n; i += 2)
        {
          /* Pixel c is inside when xs[i] <= bx + c + 0.5 < xs[i + 1]. */
          int c0 = (int)ceil (xs[i] - 0.5 - bx);
          int c1 = (int)ceil (xs[i + 1] - 0.5 - bx) - 1;

          c0 = MAX (c0, 0);
          c1 = MIN (c1, bw - 1);
          for (int c = c0; c <= c1; c++)
            bits[(gsize)r * bw + c] = value ? 1 : 0;
        }
    }

  return kp_mask_new_from_bitmap (bx, by, bw, bh, bits);
}

KpMask *
kp_mask_clip (const KpMask *mask,
              int           image_width,
              int           image_height)
{
  g_autofree guint8 *bits = NULL;
  int x0, y0, x1, y1;
  g_autofree guint8 *out = NULL;
  int w, h;

  g_return_val_if_fail (mask != NULL, NULL);

  x0 = MAX (mask->x, 0);
  y0 = MAX (mask->y, 0);
  x1 = MIN (mask->x + mask->width, image_width);
  y1 = MIN (mask->y + mask->height, image_height);
  if (x0 == mask->x && y0 == mask->y &&
      x1 == mask->x + mask->width && y1 == mask->y + mask->height)
    return kp_mask_copy (mask);

  w = MAX (x1 - x0, 0);
  h = MAX (y1 - y0, 0);
  bits = kp_mask_to_bitmap (mask);
  out = g_malloc0 (MAX ((gsize)w * h, 1));
  for (int r = 0; r < h; r++)
    memcpy (out + (gsize)r * w, bits + (gsize)(r + y0 - mask->y) * mask->width + (x0 - mask->x), w);

  return kp_mask_new_from_bitmap (x0, y0, w, h, out);
}

/* Serialization */

static void
put_varint (GByteArray *out,
            guint64     v)
{
  do
    {
      guint8 b = v & 0x7f;

      v >>= 7;
      if (v != 0)
        b |= 0x80;
      g_byte_array_append (out, &b, 1);
    }
  while (v != 0);
}

static gboolean
get_varint (const guint8 **p,
            const guint8  *end,
            guint64       *v)
{
  guint shift = 0;

  *v = 0;
  while (*p < end && shift < 64)
    {
      guint8 b = *(*p)++;

      *v |= (guint64)(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return TRUE;
      shift += 7;
    }

  return FALSE;
}

static guint64
zigzag (gint64 v)
{
  return ((guint64)v << 1) ^ (guint64)(v >> 63);
}

static gint64
unzigzag (guint64 v)
{
  return (gint64)(v >> 1) ^ -(gint64)(v & 1);
}

GBytes *
kp_mask_serialize (const KpMask *mask)
{
  GByteArray *out;

  g_return_val_if_fail (mask != NULL, NULL);

  out = g_byte_array_new ();
  put_varint (out, zigzag (mask->x));
  put_varint (out, zigzag (mask->y));
  put_varint (out, mask->width);
  put_varint (out, mask->height);
  put_varint (out, mask->n_counts);
  for (guint i = 0; i < mask->n_counts; i++)
    put_varint (out, mask->counts[i]);

  return g_byte_array_free_to_bytes (out);
}

KpMask *
kp_mask_deserialize (const guint8 *data,
                     gsize         len)
{
  const guint8 *p = data, *end = data + len;
  guint64 x, y, w, h, n;
  g_autofree guint32 *counts = NULL;

  if (data == NULL ||
      !get_varint (&p, end, &x) || !get_varint (&p, end, &y) ||
      !get_varint (&p, end, &w) || !get_varint (&p, end, &h) ||
      !get_varint (&p, end, &n) ||
      w > G_MAXINT || h > G_MAXINT || n > len)
    return NULL;

  counts = g_new (guint32, MAX (n, 1));
  for (guint64 i = 0; i < n; i++)
    {
      guint64 c;

      if (!get_varint (&p, end, &c) || c > G_MAXUINT32)
        return NULL;
      counts[i] = (guint32)c;
    }

  if (p != end)
    return NULL;

  return kp_mask_new_from_counts ((int)unzigzag (x), (int)unzigzag (y), (int)w, (int)h,
                                  counts, (guint)n);
}

/* COCO */

GArray *
kp_mask_to_coco_counts (const KpMask *mask,
                        int           image_width,
                        int           image_height)
{
  g_autoptr(KpMask) clipped = NULL;
  g_autofree guint8 *bits = NULL;
  GArray *counts;
  gboolean current = FALSE;
  guint32 run = 0;

  g_return_val_if_fail (mask != NULL, NULL);
  g_return_val_if_fail (image_width > 0 && image_height > 0, NULL);

  clipped = kp_mask_clip (mask, image_width, image_height);
  bits = kp_mask_to_bitmap (clipped);
  counts = g_array_new (FALSE, FALSE, sizeof (guint32));

  /* Column-major over the whole image; runs between set pixels are
   * counted without visiting every pixel outside the mask's columns. */
  for (int c = 0; c < image_width; c++)
    {
      gboolean in_columns = !kp_mask_is_empty (clipped) &&
                            c >= clipped->x && c < clipped->x + clipped->width;

      if (!in_columns)
        {
          if (current)
            {
              g_array_append_val (counts, run);
              run = 0;
              current = FALSE;
            }
          run += image_height;
          continue;
        }

      for (int r = 0; r < image_height; r++)
        {
          gboolean v = r >= clipped->y && r < clipped->y + clipped->height &&
                       bits[(gsize)(r - clipped->y) * clipped->width + (c - clipped->x)];

          if (v != current)
            {
              g_array_append_val (counts, run);
              run = 0;
              current = v;
            }
          run++;
        }
    }
  g_array_append_val (counts, run);

  return counts;
}

KpMask *
kp_mask_from_coco_counts (const guint32 *counts,
                          guint          n_counts,
                          int            image_width,
                          int            image_height)
{
  g_autofree guint8 *bits = NULL;
  guint64 n, pos = 0, sum = 0;
  int x0 = image_width, x1 = -1, y0 = image_height, y1 = -1;

  if (image_width <= 0 || image_height <= 0 ||
      (guint64)image_width * image_height > MAX_PIXELS)
    return NULL;

  n = (guint64)image_width * image_height;
  for (guint i = 0; i < n_counts; i++)
    sum += counts[i];
  if (sum != n)
    return NULL;

  /* First pass: the bounds of the set pixels, without a full bitmap. */
  for (guint i = 0; i < n_counts; pos += counts[i], i++)
    {
      guint64 start = pos, stop = pos + counts[i];

      if (i % 2 == 0 || counts[i] == 0)
        continue;

      x0 = MIN (x0, (int)(start / image_height));
      x1 = MAX (x1, (int)((stop - 1) / image_height));
      if (start / image_height != (stop - 1) / image_height)
        {
          y0 = 0;
          y1 = image_height - 1;
        }
      else
        {
          y0 = MIN (y0, (int)(start % image_height));
          y1 = MAX (y1, (int)((stop - 1) % image_height));
        }
    }

  if (x1 < 0)
    return kp_mask_new_empty ();

  {
    int w = x1 - x0 + 1, h = y1 - y0 + 1;

    bits = g_malloc0 ((gsize)w * h);
    pos = 0;
    for (guint i = 0; i < n_counts; pos += counts[i], i++)
      {
        if (i % 2 == 0)
          continue;
        for (guint64 p = pos; p < pos + counts[i]; p++)
          {
            int c = (int)(p / image_height), r = (int)(p % image_height);

            bits[(gsize)(r - y0) * w + (c - x0)] = 1;
          }
      }

    return kp_mask_new_from_bitmap (x0, y0, w, h, bits);
  }
}

char *
kp_coco_rle_encode (const guint32 *counts,
                    guint          n_counts)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n_counts; i++)
    {
      gint64 x = counts[i];
      gboolean more = TRUE;

      if (i > 2)
        x -= (gint64)counts[i - 2];

      while (more)
        {
          int c = (int)(x & 0x1f);

          x >>= 5;
          more = (c & 0x10) ? x != -1 : x != 0;
          if (more)
            c |= 0x20;
          g_string_append_c (out, (char)(c + 48));
        }
    }

  return g_string_free (out, FALSE);
}

GArray *
kp_coco_rle_decode (const char *string)
{
  g_autoptr(GArray) counts = NULL;
  const char *p = string;

  g_return_val_if_fail (string != NULL, NULL);

  counts = g_array_new (FALSE, FALSE, sizeof (guint32));
  while (*p != '\0')
    {
      gint64 x = 0;
      guint k = 0;
      gboolean more = TRUE;

      while (more)
        {
          int c;

          if (*p == '\0' || *p < 48 || *p > 48 + 63 || k >= 12)
            return NULL;
          c = *p - 48;
          x |= (gint64)(c & 0x1f) << (5 * k);
          more = (c & 0x20) != 0;
          p++;
          k++;
          if (!more && (c & 0x10))
            x |= (gint64)(~(guint64)0 << (5 * k));
        }

      if (counts->len > 2)
        x += g_array_index (counts, guint32, counts->len - 2);
      if (x < 0 || x > G_MAXUINT32)
        return NULL;

      {
        guint32 v = (guint32)x;

        g_array_append_val (counts, v);
      }
    }

  return g_steal_pointer (&counts);
}
