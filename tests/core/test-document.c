/* test-document.c: editing one image's annotations through the undo stack
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-core.h"
#include "kp-test-util.h"

typedef struct
{
  char       *folder;
  KpStore    *store;
  KpDocument *document;
  gint64      media_id;
  gint64      label_a;
  gint64      label_b;
  GArray     *changed;          /* gint64 ids from "changed" */
  guint       n_can_undo;
  guint       n_can_redo;
} Fixture;

static void
changed_cb (KpDocument *document,
            gint64      id,
            Fixture    *fixture)
{
  g_array_append_val (fixture->changed, id);
}

static void
notify_cb (GObject    *object,
           GParamSpec *pspec,
           Fixture    *fixture)
{
  if (g_str_equal (pspec->name, "can-undo"))
    fixture->n_can_undo++;
  else if (g_str_equal (pspec->name, "can-redo"))
    fixture->n_can_redo++;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;

  fixture->folder = kp_test_make_folder ();
  kp_test_write (fixture->folder, "image.png", "", 0);
  fixture->store = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (fixture->store, NULL, &error));
  media = kp_store_list_media (fixture->store, &error);
  g_assert_cmpuint (media->len, ==, 1);
  fixture->media_id = ((KpMedia *)media->pdata[0])->id;
  fixture->label_a = kp_store_add_label (fixture->store, "a", "#ff0000", 1, &error);
  fixture->label_b = kp_store_add_label (fixture->store, "b", "#00ff00", 2, &error);
  g_assert_no_error (error);

  fixture->document = kp_document_new (fixture->store, fixture->media_id, &error);
  g_assert_no_error (error);
  fixture->changed = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_signal_connect (fixture->document, "changed", G_CALLBACK (changed_cb), fixture);
  g_signal_connect (fixture->document, "notify", G_CALLBACK (notify_cb), fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_finalize_object (fixture->document);
  g_assert_finalize_object (fixture->store);
  g_array_unref (fixture->changed);
  kp_test_rm_rf (fixture->folder);
  g_free (fixture->folder);
}

/* What the store holds must always match what the document shows. */
static void
assert_in_sync (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) stored = kp_store_list_annotations (fixture->store, fixture->media_id, &error);
  GPtrArray *shown = kp_document_get_annotations (fixture->document);

  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, shown->len);
  for (guint i = 0; i < stored->len; i++)
    {
      const KpAnnotation *s = stored->pdata[i];
      const KpAnnotation *d = shown->pdata[i];

      g_assert_cmpint (s->id, ==, d->id);
      g_assert_cmpint (s->label_id, ==, d->label_id);
      g_assert_cmpint (s->media_id, ==, d->media_id);
      g_assert_cmpfloat (s->rect.x, ==, d->rect.x);
      g_assert_cmpfloat (s->rect.y, ==, d->rect.y);
      g_assert_cmpfloat (s->rect.width, ==, d->rect.width);
      g_assert_cmpfloat (s->rect.height, ==, d->rect.height);
      g_assert_true (kp_document_lookup (fixture->document, d->id) == d);
    }
}

static gint64
last_changed (Fixture *fixture)
{
  g_assert_cmpuint (fixture->changed->len, >, 0);
  return g_array_index (fixture->changed, gint64, fixture->changed->len - 1);
}

static void
test_add_undo_redo (Fixture       *fixture,
                    gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  gint64 id;

  g_assert_true (kp_document_get_store (doc) == fixture->store);
  g_assert_cmpint (kp_document_get_media_id (doc), ==, fixture->media_id);
  g_assert_false (kp_document_get_can_undo (doc));
  g_assert_false (kp_document_get_can_redo (doc));
  /* Undo with nothing to undo does nothing. */
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpuint (fixture->changed->len, ==, 0);

  id = kp_document_add (doc, fixture->label_a, &(KpRect) { 30, 40, -20, -30 }, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (last_changed (fixture), ==, id);
  g_assert_true (kp_document_get_can_undo (doc));
  g_assert_cmpuint (fixture->n_can_undo, ==, 1);
  g_assert_cmpuint (fixture->n_can_redo, ==, 0);
  {
    const KpAnnotation *a = kp_document_lookup (doc, id);

    g_assert_nonnull (a);
    g_assert_cmpfloat (a->rect.x, ==, 10);
    g_assert_cmpfloat (a->rect.y, ==, 10);
    g_assert_cmpfloat (a->rect.width, ==, 20);
    g_assert_cmpfloat (a->rect.height, ==, 30);
    g_assert_cmpint (a->label_id, ==, fixture->label_a);
  }
  assert_in_sync (fixture);
  {
    g_autoptr(KpMedia) m = kp_store_get_media (fixture->store, fixture->media_id, &error);

    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_IN_PROGRESS);
  }

  /* A second add does not notify can-undo again: it did not change. */
  kp_document_add (doc, fixture->label_b, &(KpRect) { 0, 0, 5, 5 }, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->n_can_undo, ==, 1);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 2);

  g_assert_true (kp_document_undo (doc, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 1);
  g_assert_true (kp_document_get_can_redo (doc));
  g_assert_cmpuint (fixture->n_can_redo, ==, 1);
  assert_in_sync (fixture);

  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (last_changed (fixture), ==, id);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 0);
  g_assert_null (kp_document_lookup (doc, id));
  g_assert_false (kp_document_get_can_undo (doc));
  g_assert_cmpuint (fixture->n_can_undo, ==, 2);
  assert_in_sync (fixture);

  /* Redo brings back the same ids. */
  g_assert_true (kp_document_redo (doc, &error));
  g_assert_no_error (error);
  g_assert_nonnull (kp_document_lookup (doc, id));
  g_assert_cmpint (last_changed (fixture), ==, id);
  g_assert_true (kp_document_redo (doc, &error));
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 2);
  g_assert_false (kp_document_get_can_redo (doc));
  g_assert_cmpuint (fixture->n_can_redo, ==, 2);
  /* Redo with nothing to redo does nothing. */
  g_assert_true (kp_document_redo (doc, &error));
  assert_in_sync (fixture);

  /* A new edit after an undo clears the redo stack. */
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_get_can_redo (doc));
  kp_document_add (doc, fixture->label_a, &(KpRect) { 1, 1, 1, 1 }, &error);
  g_assert_no_error (error);
  g_assert_false (kp_document_get_can_redo (doc));
  assert_in_sync (fixture);
}

static void
test_remove_keeps_id (Fixture       *fixture,
                      gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  gint64 first, second, third;

  first = kp_document_add (doc, fixture->label_a, &(KpRect) { 1, 2, 3, 4 }, &error);
  second = kp_document_add (doc, fixture->label_b, &(KpRect) { 5, 6, 7, 8 }, &error);
  third = kp_document_add (doc, fixture->label_a, &(KpRect) { 9, 10, 11, 12 }, &error);
  g_assert_no_error (error);

  g_assert_true (kp_document_remove (doc, second, &error));
  g_assert_no_error (error);
  g_assert_null (kp_document_lookup (doc, second));
  g_assert_cmpint (last_changed (fixture), ==, second);
  assert_in_sync (fixture);

  g_assert_true (kp_document_undo (doc, &error));
  g_assert_no_error (error);
  {
    const KpAnnotation *a = kp_document_lookup (doc, second);
    GPtrArray *all = kp_document_get_annotations (doc);

    g_assert_nonnull (a);
    g_assert_cmpint (a->label_id, ==, fixture->label_b);
    g_assert_cmpfloat (a->rect.x, ==, 5);
    g_assert_cmpfloat (a->rect.height, ==, 8);
    /* Back in its place in the drawing order. */
    g_assert_cmpuint (all->len, ==, 3);
    g_assert_cmpint (((KpAnnotation *)all->pdata[0])->id, ==, first);
    g_assert_cmpint (((KpAnnotation *)all->pdata[1])->id, ==, second);
    g_assert_cmpint (((KpAnnotation *)all->pdata[2])->id, ==, third);
  }
  assert_in_sync (fixture);

  /* Redo removes it again, undo restores it again, same id every time. */
  g_assert_true (kp_document_redo (doc, &error));
  g_assert_null (kp_document_lookup (doc, second));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_nonnull (kp_document_lookup (doc, second));
  assert_in_sync (fixture);

  /* Removing an unknown id is an error and changes nothing. */
  g_assert_false (kp_document_remove (doc, 9999, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 3);
}

static void
test_modify (Fixture       *fixture,
             gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  const KpAnnotation *a;
  guint n_changed;
  gint64 id;

  id = kp_document_add (doc, fixture->label_a, &(KpRect) { 1, 2, 3, 4 }, &error);
  g_assert_true (kp_document_set_rect (doc, id, &(KpRect) { 10, 20, 30, 40 }, &error));
  g_assert_no_error (error);
  g_assert_true (kp_document_set_label (doc, id, fixture->label_b, &error));
  g_assert_no_error (error);
  a = kp_document_lookup (doc, id);
  g_assert_cmpfloat (a->rect.x, ==, 10);
  g_assert_cmpint (a->label_id, ==, fixture->label_b);
  assert_in_sync (fixture);

  /* Setting what is already there is no edit. */
  n_changed = fixture->changed->len;
  g_assert_true (kp_document_set_label (doc, id, fixture->label_b, &error));
  g_assert_true (kp_document_set_rect (doc, id, &(KpRect) { 10, 20, 30, 40 }, &error));
  g_assert_cmpuint (fixture->changed->len, ==, n_changed);

  /* Undo the label, then the rect, then the add. */
  g_assert_true (kp_document_undo (doc, &error));
  a = kp_document_lookup (doc, id);
  g_assert_cmpint (a->label_id, ==, fixture->label_a);
  g_assert_cmpfloat (a->rect.x, ==, 10);
  assert_in_sync (fixture);
  g_assert_true (kp_document_undo (doc, &error));
  a = kp_document_lookup (doc, id);
  g_assert_cmpfloat (a->rect.x, ==, 1);
  g_assert_cmpfloat (a->rect.height, ==, 4);
  assert_in_sync (fixture);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_null (kp_document_lookup (doc, id));
  assert_in_sync (fixture);

  /* Redo all three. */
  g_assert_true (kp_document_redo (doc, &error));
  g_assert_true (kp_document_redo (doc, &error));
  g_assert_true (kp_document_redo (doc, &error));
  g_assert_no_error (error);
  a = kp_document_lookup (doc, id);
  g_assert_cmpfloat (a->rect.width, ==, 30);
  g_assert_cmpint (a->label_id, ==, fixture->label_b);
  assert_in_sync (fixture);

  /* A label that does not exist is refused by the store: nothing changes,
   * nothing is pushed. */
  n_changed = fixture->changed->len;
  g_assert_false (kp_document_set_label (doc, id, 9999, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (kp_document_lookup (doc, id)->label_id, ==, fixture->label_b);
  g_assert_cmpuint (fixture->changed->len, ==, n_changed);
  g_assert_false (kp_document_add (doc, 9999, &(KpRect) { 0, 0, 1, 1 }, &error));
  g_clear_error (&error);
  g_assert_false (kp_document_get_can_redo (doc));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (kp_document_lookup (doc, id)->label_id, ==, fixture->label_a);
  assert_in_sync (fixture);

  g_assert_false (kp_document_set_rect (doc, 9999, &(KpRect) { 0, 0, 1, 1 }, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
}

/* When the store refuses an undo (here: the annotation was deleted
 * behind the document's back), the stacks stay as they were. */
static void
test_store_error_keeps_stacks (Fixture       *fixture,
                               gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = kp_document_add (doc, fixture->label_a, &(KpRect) { 1, 2, 3, 4 }, &error);
  g_assert_true (kp_document_set_rect (doc, id, &(KpRect) { 5, 5, 5, 5 }, &error));
  g_assert_true (kp_store_delete_annotation (fixture->store, id, &error));
  g_assert_no_error (error);

  g_assert_false (kp_document_undo (doc, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (kp_document_get_can_undo (doc));
  g_assert_false (kp_document_get_can_redo (doc));
  g_assert_cmpfloat (kp_document_lookup (doc, id)->rect.x, ==, 5);
}

static void
test_forget_label (Fixture       *fixture,
                   gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  gint64 a, b;

  a = kp_document_add (doc, fixture->label_a, &(KpRect) { 1, 2, 3, 4 }, &error);
  b = kp_document_add (doc, fixture->label_b, &(KpRect) { 5, 6, 7, 8 }, &error);
  g_assert_true (kp_document_set_rect (doc, a, &(KpRect) { 2, 2, 2, 2 }, &error));
  g_assert_no_error (error);

  g_assert_true (kp_store_delete_label (fixture->store, fixture->label_a, &error));
  kp_document_forget_label (doc, fixture->label_a);
  g_assert_cmpint (last_changed (fixture), ==, 0);
  g_assert_null (kp_document_lookup (doc, a));
  g_assert_nonnull (kp_document_lookup (doc, b));
  assert_in_sync (fixture);

  /* Only the add of b is left to undo. */
  g_assert_true (kp_document_get_can_undo (doc));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_no_error (error);
  g_assert_null (kp_document_lookup (doc, b));
  g_assert_false (kp_document_get_can_undo (doc));
  assert_in_sync (fixture);
}

/* Suggestions: accepting is one undoable step, rejecting deletes, and an
 * edit by a person marks the suggestion as changed. */
static void
test_suggestions (Fixture       *fixture,
                  gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  KpAnnotation s = { 0 };
  gint64 ids[3];
  const double confidence[3] = { 0.9, 0.5, 0.2 };

  for (guint i = 0; i < 3; i++)
    {
      s.label_id = fixture->label_a;
      s.rect = (KpRect) { i * 10, 0, 5, 5 };
      s.review = KP_REVIEW_PENDING;
      s.source = (char *)"test";
      s.confidence = confidence[i];
      ids[i] = kp_document_add_annotation (doc, &s, &error);
      g_assert_no_error (error);
    }

  g_assert_true (kp_document_accept_above (doc, 0.5, &error));
  g_assert_cmpint (kp_document_lookup (doc, ids[0])->review, ==, KP_REVIEW_ACCEPTED);
  g_assert_cmpint (kp_document_lookup (doc, ids[1])->review, ==, KP_REVIEW_ACCEPTED);
  g_assert_cmpint (kp_document_lookup (doc, ids[2])->review, ==, KP_REVIEW_PENDING);
  /* Two objects changed: one signal for many. */
  g_assert_cmpint (last_changed (fixture), ==, 0);
  g_assert_cmpuint (kp_document_get_n_undo (doc), ==, 4);

  g_assert_true (kp_document_reject_below (doc, 0.5, &error));
  g_assert_null (kp_document_lookup (doc, ids[2]));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (kp_document_lookup (doc, ids[2])->review, ==, KP_REVIEW_PENDING);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (kp_document_lookup (doc, ids[0])->review, ==, KP_REVIEW_PENDING);
  assert_in_sync (fixture);

  /* Accepting does not count as a person's change; moving does. */
  g_assert_true (kp_document_accept (doc, &ids[0], 1, &error));
  g_assert_false (kp_document_lookup (doc, ids[0])->flags & KP_ANNOTATION_MODIFIED_BY_PERSON);
  g_assert_true (kp_document_move (doc, &ids[0], 1, 1, 0, &error));
  g_assert_true (kp_document_lookup (doc, ids[0])->flags & KP_ANNOTATION_MODIFIED_BY_PERSON);
  g_assert_cmpfloat (kp_document_lookup (doc, ids[0])->rect.x, ==, 1);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_false (kp_document_lookup (doc, ids[0])->flags & KP_ANNOTATION_MODIFIED_BY_PERSON);

  /* A person's own object cannot be "rejected". */
  {
    gint64 own = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);

    g_assert_false (kp_document_reject (doc, &own, 1, &error));
    g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }
  assert_in_sync (fixture);
}

/* Z-order and the drawing order of get_annotations(). */
static void
test_z_order (Fixture       *fixture,
              gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  GPtrArray *all = kp_document_get_annotations (doc);
  gint64 a, b, c;

  a = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);
  b = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);
  c = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);

  g_assert_true (kp_document_raise_to_top (doc, &a, 1, &error));
  g_assert_cmpint (((KpAnnotation *)all->pdata[0])->id, ==, b);
  g_assert_cmpint (((KpAnnotation *)all->pdata[2])->id, ==, a);
  g_assert_cmpint (last_changed (fixture), ==, 0);

  g_assert_true (kp_document_lower_to_bottom (doc, (gint64[]) { c, a }, 2, &error));
  g_assert_cmpint (((KpAnnotation *)all->pdata[0])->id, ==, c);
  g_assert_cmpint (((KpAnnotation *)all->pdata[1])->id, ==, a);
  g_assert_cmpint (((KpAnnotation *)all->pdata[2])->id, ==, b);

  /* A new object goes on top. */
  {
    gint64 d = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);

    g_assert_cmpint (((KpAnnotation *)all->pdata[3])->id, ==, d);
  }

  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (((KpAnnotation *)all->pdata[0])->id, ==, a);
  g_assert_cmpint (((KpAnnotation *)all->pdata[2])->id, ==, c);
  g_assert_no_error (error);
}

static void
count_cb (KpDocument *document,
          guint      *count)
{
  (*count)++;
}

static void
test_tags_and_attributes (Fixture       *fixture,
                          gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  KpAttribute attr = { 0 };
  gint64 group, day, night, attr_id, id;
  guint n_tags_changed = 0;

  group = kp_store_add_tag_group (fixture->store, "time", FALSE, &error);
  day = kp_store_add_tag (fixture->store, group, "day", &error);
  night = kp_store_add_tag (fixture->store, group, "night", &error);
  g_signal_connect (doc, "tags-changed", G_CALLBACK (count_cb), &n_tags_changed);

  g_assert_true (kp_document_toggle_tag (doc, day, TRUE, &error));
  g_assert_true (kp_document_toggle_tag (doc, night, TRUE, &error));
  /* Single-select: night replaced day. */
  g_assert_cmpuint (kp_document_get_tags (doc)->len, ==, 1);
  g_assert_cmpint (g_array_index (kp_document_get_tags (doc), gint64, 0), ==, night);
  g_assert_cmpuint (n_tags_changed, ==, 2);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (g_array_index (kp_document_get_tags (doc), gint64, 0), ==, day);
  g_assert_false (kp_document_set_tags (doc, (gint64[]) { day, night }, 2, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (g_array_index (kp_document_get_tags (doc), gint64, 0), ==, day);

  attr.label_id = fixture->label_a;
  attr.name = (char *)"count";
  attr.kind = KP_ATTRIBUTE_NUMBER;
  attr.min = 0;
  attr.max = 10;
  attr_id = kp_store_add_attribute (fixture->store, &attr, &error);
  id = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);
  g_assert_null (kp_annotation_get_attribute (kp_document_lookup (doc, id), attr_id));
  g_assert_true (kp_document_set_attribute (doc, &id, 1, attr_id, "3", &error));
  g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (doc, id), attr_id), ==, "3");
  g_assert_false (kp_document_set_attribute (doc, &id, 1, attr_id, "11", &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_null (kp_annotation_get_attribute (kp_document_lookup (doc, id), attr_id));
  g_assert_no_error (error);

  /* A default value is given to new objects of the label only. */
  attr.name = (char *)"kind";
  attr.kind = KP_ATTRIBUTE_CHOICE;
  attr.options = (char *[]) { (char *)"sedan", (char *)"van", NULL };
  attr.default_value = (char *)"van";
  {
    gint64 kind = kp_store_add_attribute (fixture->store, &attr, &error);
    gint64 a = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);
    gint64 b = kp_document_add (doc, fixture->label_b, &(KpRect) { 0, 0, 1, 1 }, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (doc, a), kind), ==, "van");
    g_assert_null (kp_annotation_get_attribute (kp_document_lookup (doc, b), kind));
    g_assert_null (kp_annotation_get_attribute (kp_document_lookup (doc, id), kind));
  }
  assert_in_sync (fixture);
}

/* The journal keeps the newest KP_DOCUMENT_HISTORY_LIMIT steps. */
static void
test_history_limit (Fixture       *fixture,
                    gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 1, 1 }, &error);
  for (guint i = 0; i < KP_DOCUMENT_HISTORY_LIMIT + 4; i++)
    g_assert_true (kp_document_move (doc, &id, 1, 1, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_n_undo (doc), ==, KP_DOCUMENT_HISTORY_LIMIT);

  g_clear_object (&fixture->document);
  fixture->document = kp_document_new (fixture->store, fixture->media_id, &error);
  doc = fixture->document;
  g_assert_cmpuint (kp_document_get_n_undo (doc), ==, KP_DOCUMENT_HISTORY_LIMIT);
  for (guint i = 0; i < KP_DOCUMENT_HISTORY_LIMIT; i++)
    g_assert_true (kp_document_undo (doc, &error));
  g_assert_no_error (error);
  g_assert_false (kp_document_get_can_undo (doc));
  /* The add and the first four moves are beyond the limit. */
  g_assert_cmpfloat (kp_document_lookup (doc, id)->rect.x, ==, 4);
}

static void
test_convert_and_reload (Fixture       *fixture,
                         gconstpointer  data)
{
  KpDocument *doc = fixture->document;
  g_autoptr(KpDocument) other = NULL;
  g_autoptr(GError) error = NULL;
  KpAnnotation polygon = { 0 };
  const KpAnnotation *a;
  gint64 id, line;

  polygon.label_id = fixture->label_a;
  polygon.shape = KP_SHAPE_POLYGON;
  kp_annotation_set_points (&polygon, (KpPoint[]) { { 2, 2 }, { 6, 2 }, { 6, 5 }, { 2, 5 } }, 4);
  id = kp_document_add_annotation (doc, &polygon, &error);
  kp_annotation_clear (&polygon);
  g_assert_no_error (error);

  g_assert_true (kp_document_convert_to_mask (doc, id, &error));
  a = kp_document_lookup (doc, id);
  g_assert_cmpint (a->shape, ==, KP_SHAPE_MASK);
  g_assert_null (a->points);
  g_assert_cmpuint (kp_mask_get_area (a->mask), ==, 12);
  g_assert_cmpfloat (a->rect.width, ==, 4);
  assert_in_sync (fixture);

  /* Brush and eraser on it, each one step. */
  g_assert_true (kp_document_paint_mask (doc, id, (KpPoint[]) { { 10, 10 } }, 1, 1, TRUE, &error));
  g_assert_cmpuint (kp_mask_get_area (kp_document_lookup (doc, id)->mask), ==, 16);
  g_assert_true (kp_document_paint_mask (doc, id, (KpPoint[]) { { 10, 10 }, { 3, 3 } }, 2, 1, FALSE, &error));
  g_assert_cmpuint (kp_mask_get_area (kp_document_lookup (doc, id)->mask), ==, 8);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpint (kp_document_lookup (doc, id)->shape, ==, KP_SHAPE_POLYGON);
  g_assert_no_error (error);

  line = kp_document_add (doc, fixture->label_a, &(KpRect) { 0, 0, 0, 0 }, &error);
  g_assert_false (kp_document_convert_to_mask (doc, line, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Another document of the same image writes; this one catches up. */
  other = kp_document_new (fixture->store, fixture->media_id, &error);
  g_assert_true (kp_document_remove (other, id, &error));
  g_assert_nonnull (kp_document_lookup (doc, id));
  g_assert_true (kp_document_reload (doc, &error));
  g_assert_null (kp_document_lookup (doc, id));
  g_assert_cmpint (last_changed (fixture), ==, 0);
  g_assert_cmpuint (kp_document_get_n_undo (doc), ==, kp_document_get_n_undo (other));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_nonnull (kp_document_lookup (doc, id));
  assert_in_sync (fixture);
}

static gint64
add_rect (Fixture *fixture,
          gint64   label_id,
          double   x)
{
  g_autoptr(GError) error = NULL;
  KpRect rect = { x, 10, 20, 20 };
  gint64 id = kp_document_add (fixture->document, label_id, &rect, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

/* Adds, updates and removes as one step, undone and redone together. */
static void
test_change_many (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpAnnotation) moved = NULL;
  KpAnnotation fresh = { 0 };
  const KpAnnotation *added[1] = { &fresh };
  const KpAnnotation *updated[1];
  gint64 a = add_rect (fixture, fixture->label_a, 0);
  gint64 b = add_rect (fixture, fixture->label_a, 50);
  gint64 ids[1] = { 0 };

  fresh.label_id = fixture->label_b;
  fresh.rect = (KpRect) { 100, 100, 5, 5 };
  moved = kp_annotation_copy (kp_document_lookup (fixture->document, a));
  moved->rect.x = 7;
  updated[0] = moved;

  g_assert_true (kp_document_change_many (fixture->document, added, 1, updated, 1, &b, 1, ids, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ids[0], >, 0);
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, 3);
  g_assert_cmpfloat (kp_document_lookup (fixture->document, a)->rect.x, ==, 7);
  g_assert_null (kp_document_lookup (fixture->document, b));
  g_assert_cmpint (kp_document_lookup (fixture->document, ids[0])->label_id, ==, fixture->label_b);
  assert_in_sync (fixture);

  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_cmpfloat (kp_document_lookup (fixture->document, a)->rect.x, ==, 0);
  g_assert_nonnull (kp_document_lookup (fixture->document, b));
  g_assert_null (kp_document_lookup (fixture->document, ids[0]));
  assert_in_sync (fixture);
  g_assert_true (kp_document_redo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_nonnull (kp_document_lookup (fixture->document, ids[0]));
  g_assert_null (kp_document_lookup (fixture->document, b));
  assert_in_sync (fixture);

  /* The same object twice is refused, and changes nothing. */
  g_assert_false (kp_document_change_many (fixture->document, NULL, 0, updated, 1, &a, 1, NULL, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, 3);
  assert_in_sync (fixture);
}

/* Another connection's writes: reload_if_changed picks them up, and
 * does nothing (no signal) when there are none. */
static void
test_reload_if_changed (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpStore) other = kp_store_open (fixture->folder, &error);
  g_autoptr(KpDocument) elsewhere = NULL;
  gint64 version = kp_store_get_data_version (fixture->store);
  gboolean changed = TRUE;
  gint64 mine, theirs;

  g_assert_no_error (error);
  mine = add_rect (fixture, fixture->label_a, 0);
  /* Its own writes do not move its data version. */
  g_assert_cmpint (kp_store_get_data_version (fixture->store), ==, version);

  g_array_set_size (fixture->changed, 0);
  g_assert_true (kp_document_reload_if_changed (fixture->document, &changed, &error));
  g_assert_no_error (error);
  g_assert_false (changed);
  g_assert_cmpuint (fixture->changed->len, ==, 0);

  elsewhere = kp_document_new (other, fixture->media_id, &error);
  g_assert_no_error (error);
  {
    KpRect rect = { 60, 60, 10, 10 };

    theirs = kp_document_add (elsewhere, fixture->label_b, &rect, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpint (kp_store_get_data_version (fixture->store), !=, version);

  g_assert_true (kp_document_reload_if_changed (fixture->document, &changed, &error));
  g_assert_true (changed);
  g_assert_cmpuint (fixture->changed->len, ==, 1);
  g_assert_nonnull (kp_document_lookup (fixture->document, theirs));
  g_assert_nonnull (kp_document_lookup (fixture->document, mine));
  /* Both steps are in the one history of the image. */
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, 2);
  assert_in_sync (fixture);

  g_assert_true (kp_document_reload_if_changed (fixture->document, &changed, &error));
  g_assert_false (changed);
}

/* Contents read through one connection make a document on another. */
static void
test_contents (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpStore) other = kp_store_open (fixture->folder, &error);
  g_autoptr(KpDocumentContents) contents = NULL;
  g_autoptr(KpDocument) copy = NULL;
  GPtrArray *a, *b;

  g_assert_no_error (error);
  add_rect (fixture, fixture->label_a, 0);
  add_rect (fixture, fixture->label_b, 30);

  contents = kp_document_contents_read (other, fixture->media_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kp_document_contents_get_media_id (contents), ==, fixture->media_id);
  copy = kp_document_new_from_contents (fixture->store, g_steal_pointer (&contents));
  g_assert_true (kp_document_get_store (copy) == fixture->store);
  g_assert_cmpuint (kp_document_get_n_undo (copy), ==, 2);
  a = kp_document_get_annotations (fixture->document);
  b = kp_document_get_annotations (copy);
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_true (kp_annotation_equal (a->pdata[i], b->pdata[i]));

  g_assert_null (kp_document_contents_read (other, 9999, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
}

static void
test_load_existing (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  KpAnnotation a = { 0 };
  KpDocument *doc;
  KpStore *store;
  gint64 label;

  kp_test_write (folder, "x.png", "", 0);
  store = kp_store_open (folder, &error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  media = kp_store_list_media (store, &error);
  label = kp_store_add_label (store, "l", "#000000", 0, &error);
  a.media_id = ((KpMedia *)media->pdata[0])->id;
  a.label_id = label;
  a.rect = (KpRect) { 1, 1, 2, 2 };
  kp_store_add_annotation (store, &a, &error);
  kp_store_add_annotation (store, &a, &error);
  g_assert_no_error (error);

  doc = kp_document_new (store, a.media_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 2);
  g_assert_false (kp_document_get_can_undo (doc));
  g_assert_finalize_object (doc);

  g_assert_null (kp_document_new (store, 9999, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/core/document/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("add-undo-redo", test_add_undo_redo);
  ADD ("remove-keeps-id", test_remove_keeps_id);
  ADD ("modify", test_modify);
  ADD ("store-error-keeps-stacks", test_store_error_keeps_stacks);
  ADD ("forget-label", test_forget_label);
  ADD ("suggestions", test_suggestions);
  ADD ("z-order", test_z_order);
  ADD ("tags-and-attributes", test_tags_and_attributes);
  ADD ("history-limit", test_history_limit);
  ADD ("convert-and-reload", test_convert_and_reload);
  ADD ("change-many", test_change_many);
  ADD ("reload-if-changed", test_reload_if_changed);
  ADD ("contents", test_contents);
  g_test_add_func ("/kempelen/core/document/load-existing", test_load_existing);

#undef ADD

  return g_test_run ();
}
