/* test-undo-random.c: undo/redo invariants over random edit sequences
 *
 * Random edits on random shapes; after each: undo gives back the state
 * before it, redo the state after it. At the end, undoing everything gives
 * the initial state and redoing everything the final one. The store is
 * closed and reopened in the middle (the journal lives in it), and a
 * process killed with SIGKILL keeps its history.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>

#include "kp-core.h"
#include "kp-test-util.h"

typedef struct
{
  char       *folder;
  KpStore    *store;
  KpDocument *document;
  gint64      media_id;
  gint64      labels[3];
  gint64      attributes[3];    /* one per label: number, checkbox, choice */
  gint64      tags[4];          /* two single-select, two multi-select */
  GRand      *rand;
} Fixture;

/* What the store holds: annotations by id, and the tags. */
typedef struct
{
  GPtrArray *annotations;
  GArray    *tags;
} State;

static void
state_free (State *state)
{
  g_ptr_array_unref (state->annotations);
  g_array_unref (state->tags);
  g_free (state);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (State, state_free)

static State *
snapshot (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  State *state = g_new0 (State, 1);
  GPtrArray *shown = kp_document_get_annotations (fixture->document);
  GArray *shown_tags = kp_document_get_tags (fixture->document);

  state->annotations = kp_store_list_annotations (fixture->store, fixture->media_id, &error);
  g_assert_no_error (error);
  state->tags = kp_store_get_media_tags (fixture->store, fixture->media_id, &error);
  g_assert_no_error (error);

  /* The document shows exactly what is stored, in drawing order. */
  g_assert_cmpuint (shown->len, ==, state->annotations->len);
  for (guint i = 0; i < state->annotations->len; i++)
    {
      const KpAnnotation *stored = state->annotations->pdata[i];
      const KpAnnotation *mem = kp_document_lookup (fixture->document, stored->id);

      g_assert_nonnull (mem);
      g_assert_true (kp_annotation_equal (stored, mem));
    }
  for (guint i = 1; i < shown->len; i++)
    {
      const KpAnnotation *a = shown->pdata[i - 1];
      const KpAnnotation *b = shown->pdata[i];

      g_assert_true (a->z < b->z || (a->z == b->z && a->id < b->id));
    }
  g_assert_cmpuint (shown_tags->len, ==, state->tags->len);
  g_assert_cmpmem (shown_tags->data, shown_tags->len * 8, state->tags->data, state->tags->len * 8);

  return state;
}

static void
assert_state_equal (const State *a,
                    const State *b)
{
  g_assert_cmpuint (a->annotations->len, ==, b->annotations->len);
  for (guint i = 0; i < a->annotations->len; i++)
    g_assert_true (kp_annotation_equal (a->annotations->pdata[i], b->annotations->pdata[i]));
  g_assert_cmpuint (a->tags->len, ==, b->tags->len);
  g_assert_cmpmem (a->tags->data, a->tags->len * 8, b->tags->data, b->tags->len * 8);
}

static void
open_document (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;

  fixture->store = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  fixture->document = kp_document_new (fixture->store, fixture->media_id, &error);
  g_assert_no_error (error);
}

static void
close_document (Fixture *fixture)
{
  g_assert_finalize_object (fixture->document);
  g_assert_finalize_object (fixture->store);
  fixture->document = NULL;
  fixture->store = NULL;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  const char *choices[] = { "red", "green", "blue", NULL };
  const char *folder = g_getenv ("KP_TEST_UNDO_FOLDER");
  KpAttribute attr = { 0 };
  gint64 single, multi;

  fixture->rand = g_rand_new_with_seed (g_test_rand_int ());

  /* The crash test's child reuses its parent's project. */
  if (folder != NULL && g_test_subprocess ())
    {
      fixture->folder = g_strdup (folder);
      fixture->store = kp_store_open (fixture->folder, &error);
      g_assert_no_error (error);
      media = kp_store_list_media (fixture->store, &error);
      fixture->media_id = ((KpMedia *)media->pdata[0])->id;
      fixture->document = kp_document_new (fixture->store, fixture->media_id, &error);
      g_assert_no_error (error);
      return;
    }

  fixture->folder = kp_test_make_folder ();
  kp_test_write (fixture->folder, "image.png", "", 0);
  fixture->store = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (fixture->store, NULL, &error));
  media = kp_store_list_media (fixture->store, &error);
  fixture->media_id = ((KpMedia *)media->pdata[0])->id;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("label%u", i);

      fixture->labels[i] = kp_store_add_label (fixture->store, name, "#102030", 0, &error);
      g_assert_no_error (error);
    }

  attr.min = -G_MAXDOUBLE;
  attr.max = G_MAXDOUBLE;
  attr.label_id = fixture->labels[0];
  attr.name = (char *)"size";
  attr.kind = KP_ATTRIBUTE_NUMBER;
  fixture->attributes[0] = kp_store_add_attribute (fixture->store, &attr, &error);
  attr.label_id = fixture->labels[1];
  attr.name = (char *)"truncated";
  attr.kind = KP_ATTRIBUTE_CHECKBOX;
  fixture->attributes[1] = kp_store_add_attribute (fixture->store, &attr, &error);
  attr.label_id = fixture->labels[2];
  attr.name = (char *)"colour";
  attr.kind = KP_ATTRIBUTE_CHOICE;
  attr.options = (char **)choices;
  fixture->attributes[2] = kp_store_add_attribute (fixture->store, &attr, &error);
  g_assert_no_error (error);

  single = kp_store_add_tag_group (fixture->store, "time", FALSE, &error);
  multi = kp_store_add_tag_group (fixture->store, "flags", TRUE, &error);
  fixture->tags[0] = kp_store_add_tag (fixture->store, single, "day", &error);
  fixture->tags[1] = kp_store_add_tag (fixture->store, single, "night", &error);
  fixture->tags[2] = kp_store_add_tag (fixture->store, multi, "blurry", &error);
  fixture->tags[3] = kp_store_add_tag (fixture->store, multi, "crowded", &error);
  g_assert_no_error (error);

  fixture->document = kp_document_new (fixture->store, fixture->media_id, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->document != NULL)
    close_document (fixture);
  if (!g_test_subprocess ())
    kp_test_rm_rf (fixture->folder);
  g_free (fixture->folder);
  g_rand_free (fixture->rand);
}

static double
coord (Fixture *fixture)
{
  /* Quarter pixels keep the numbers exact and varied. */
  return g_rand_int_range (fixture->rand, 0, 4000) / 4.0;
}

static KpAnnotation *
random_annotation (Fixture *fixture)
{
  KpAnnotation *a = g_new0 (KpAnnotation, 1);
  guint label = g_rand_int_range (fixture->rand, 0, 3);
  guint n = 0;
  KpPoint points[12];

  a->label_id = fixture->labels[label];
  a->shape = g_rand_int_range (fixture->rand, 0, KP_N_SHAPES);
  switch (a->shape)
    {
    case KP_SHAPE_BOX:
      a->rect = (KpRect) { coord (fixture), coord (fixture), coord (fixture) / 4, coord (fixture) / 4 };
      break;

    case KP_SHAPE_ROTATED_BOX:
      a->rotated = (KpRotatedBox) { coord (fixture), coord (fixture), coord (fixture) / 4,
                                    coord (fixture) / 4, g_rand_double_range (fixture->rand, -3, 3) };
      break;

    case KP_SHAPE_POLYGON:
      n = g_rand_int_range (fixture->rand, 3, 12);
      break;

    case KP_SHAPE_POLYLINE:
      n = g_rand_int_range (fixture->rand, 2, 12);
      break;

    case KP_SHAPE_LINE:
      n = 2;
      break;

    case KP_SHAPE_POINT:
      n = 1;
      a->keypoint = g_rand_boolean (fixture->rand) ? g_strdup ("nose") : NULL;
      a->occluded = g_rand_boolean (fixture->rand);
      break;

    case KP_SHAPE_MASK:
      a->mask = kp_mask_paint_circle (NULL, coord (fixture) / 8, coord (fixture) / 8,
                                      g_rand_int_range (fixture->rand, 1, 12), TRUE);
      break;

    default:
      g_assert_not_reached ();
    }

  for (guint i = 0; i < n; i++)
    points[i] = (KpPoint) { coord (fixture), coord (fixture) };
  if (n > 0)
    kp_annotation_set_points (a, points, n);

  /* Some are suggestions. */
  if (g_rand_int_range (fixture->rand, 0, 3) == 0)
    {
      a->review = KP_REVIEW_PENDING;
      a->source = g_strdup ("random");
      a->confidence = g_rand_int_range (fixture->rand, 0, 100) / 100.0;
    }
  kp_annotation_update_bounds (a);

  return a;
}

/* A few ids of existing annotations (possibly repeated). */
static GArray *
random_ids (Fixture *fixture,
            guint    max)
{
  GPtrArray *all = kp_document_get_annotations (fixture->document);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint n = all->len == 0 ? 0 : g_rand_int_range (fixture->rand, 1, max + 1);

  for (guint i = 0; i < n; i++)
    {
      const KpAnnotation *a = all->pdata[g_rand_int_range (fixture->rand, 0, all->len)];

      g_array_append_val (ids, a->id);
    }

  return ids;
}

/* One random edit. Returns FALSE when it failed (an edit that makes no
 * sense, such as taking a vertex from a triangle); that must change
 * nothing. */
static gboolean
random_edit (Fixture  *fixture,
             GString  *log)
{
  KpDocument *doc = fixture->document;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = random_ids (fixture, 4);
  const gint64 *id = (const gint64 *)(void *)ids->data;
  const KpAnnotation *first = ids->len > 0 ? kp_document_lookup (doc, id[0]) : NULL;
  guint op = g_rand_int_range (fixture->rand, 0, 18);
  gboolean ok = FALSE;

  if (first == NULL)
    op = 0;

  g_string_append_printf (log, "%u ", op);
  switch (op)
    {
    case 0:
      {
        g_autoptr(KpAnnotation) a = random_annotation (fixture);

        ok = kp_document_add_annotation (doc, a, &error) != 0;
        break;
      }

    case 1:
      {
        g_autoptr(GPtrArray) many = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
        guint n = g_rand_int_range (fixture->rand, 1, 5);

        for (guint i = 0; i < n; i++)
          g_ptr_array_add (many, random_annotation (fixture));
        ok = kp_document_add_many (doc, (const KpAnnotation * const *)many->pdata, n, NULL, &error);
        break;
      }

    case 2:
      ok = kp_document_remove_many (doc, id, ids->len, &error);
      break;

    case 3:
      ok = kp_document_move (doc, id, ids->len, coord (fixture) - 500, coord (fixture) - 500, &error);
      break;

    case 4:
      ok = kp_document_set_rect (doc, id[0], &(KpRect) { coord (fixture), coord (fixture),
                                                         coord (fixture) / 4 + 1, coord (fixture) / 4 + 1 },
                                 &error);
      break;

    case 5:
      ok = kp_document_relabel (doc, id, ids->len, fixture->labels[g_rand_int_range (fixture->rand, 0, 3)],
                                &error);
      break;

    case 6:
      {
        guint k;
        const char *values[] = { "12.5", "true", "green" };

        for (k = 0; k < 3; k++)
          if (fixture->labels[k] == first->label_id)
            break;
        ok = kp_document_set_attribute (doc, id, 1, fixture->attributes[k],
                                        g_rand_boolean (fixture->rand) ? values[k] : NULL, &error);
        break;
      }

    case 7:
      ok = kp_document_set_flags (doc, id, ids->len,
                                  g_rand_boolean (fixture->rand) ? KP_ANNOTATION_HIDDEN : KP_ANNOTATION_LOCKED,
                                  g_rand_boolean (fixture->rand), &error);
      break;

    case 8:
      ok = kp_document_raise_to_top (doc, id, ids->len, &error);
      break;

    case 9:
      ok = kp_document_lower_to_bottom (doc, id, ids->len, &error);
      break;

    case 10:
      ok = kp_document_insert_vertex (doc, id[0], g_rand_int_range (fixture->rand, 0, first->n_points + 1),
                                      &(KpPoint) { coord (fixture), coord (fixture) }, &error);
      break;

    case 11:
      ok = kp_document_remove_vertex (doc, id[0], first->n_points > 0 ? g_rand_int_range (fixture->rand, 0, first->n_points) : 0,
                                      &error);
      break;

    case 12:
      ok = kp_document_move_vertex (doc, id[0], first->n_points > 0 ? g_rand_int_range (fixture->rand, 0, first->n_points) : 0,
                                    &(KpPoint) { coord (fixture), coord (fixture) }, &error);
      break;

    case 13:
      {
        KpPoint stroke[3];

        for (guint i = 0; i < 3; i++)
          stroke[i] = (KpPoint) { coord (fixture) / 8, coord (fixture) / 8 };
        ok = kp_document_paint_mask (doc, id[0], stroke, 3, g_rand_int_range (fixture->rand, 1, 8),
                                     g_rand_boolean (fixture->rand), &error);
        break;
      }

    case 14:
      ok = kp_document_toggle_tag (doc, fixture->tags[g_rand_int_range (fixture->rand, 0, 4)],
                                   g_rand_boolean (fixture->rand), &error);
      break;

    case 15:
      if (g_rand_boolean (fixture->rand))
        ok = kp_document_accept_above (doc, g_rand_double (fixture->rand), &error);
      else
        ok = kp_document_reject_below (doc, g_rand_double (fixture->rand), &error);
      break;

    case 16:
      {
        g_autoptr(KpAnnotation) replacement = random_annotation (fixture);

        replacement->id = id[0];
        ok = kp_document_update (doc, replacement, &error);
        break;
      }

    case 17:
      ok = kp_document_convert_to_mask (doc, id[0], &error);
      break;

    default:
      g_assert_not_reached ();
    }

  if (!ok)
    {
      /* Only edits that do not fit the object may fail. */
      g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
      g_string_append (log, "(refused) ");
    }

  return ok;
}

static void
run_sequence (Fixture  *fixture,
              guint     n_edits,
              gboolean  reopen)
{
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func ((GDestroyNotify)state_free);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  guint done = 0;

  g_ptr_array_add (states, snapshot (fixture));

  for (guint i = 0; i < n_edits; i++)
    {
      g_autoptr(State) before = snapshot (fixture);
      g_autoptr(State) after = NULL;
      g_autoptr(State) undone = NULL;
      g_autoptr(State) redone = NULL;
      guint n_undo = kp_document_get_n_undo (fixture->document);

      if (!random_edit (fixture, log))
        {
          g_autoptr(State) unchanged = snapshot (fixture);

          assert_state_equal (before, unchanged);
          g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, n_undo);
          continue;
        }

      after = snapshot (fixture);
      if (kp_document_get_n_undo (fixture->document) == n_undo)
        {
          /* An edit that changed nothing adds no step. */
          assert_state_equal (before, after);
          continue;
        }

      /* Do, then undo, is the identity; redo gives the edit back. */
      g_assert_true (kp_document_undo (fixture->document, &error));
      g_assert_no_error (error);
      undone = snapshot (fixture);
      assert_state_equal (before, undone);
      g_assert_true (kp_document_get_can_redo (fixture->document));
      g_assert_true (kp_document_redo (fixture->document, &error));
      g_assert_no_error (error);
      redone = snapshot (fixture);
      assert_state_equal (after, redone);
      g_assert_false (kp_document_get_can_redo (fixture->document));

      g_ptr_array_add (states, g_steal_pointer (&after));
      done++;

      if (reopen && i == n_edits / 2)
        {
          close_document (fixture);
          open_document (fixture);
          g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, done);
        }
    }

  g_test_message ("edits: %s", log->str);

  /* Undo everything, step by step through the states seen. */
  for (guint i = done; i > 0; i--)
    {
      g_autoptr(State) state = NULL;

      g_assert_true (kp_document_undo (fixture->document, &error));
      g_assert_no_error (error);
      state = snapshot (fixture);
      assert_state_equal (states->pdata[i - 1], state);

      if (reopen && i == done / 2)
        {
          close_document (fixture);
          open_document (fixture);
        }
    }
  g_assert_false (kp_document_get_can_undo (fixture->document));
  g_assert_cmpuint (kp_document_get_n_redo (fixture->document), ==, done);

  /* Redo everything. */
  for (guint i = 1; i <= done; i++)
    {
      g_assert_true (kp_document_redo (fixture->document, &error));
      g_assert_no_error (error);

      if (reopen && i == done / 3)
        {
          close_document (fixture);
          open_document (fixture);
        }
    }
  {
    g_autoptr(State) final = snapshot (fixture);

    assert_state_equal (states->pdata[done], final);
  }
  g_assert_false (kp_document_get_can_redo (fixture->document));
}

static void
test_random (Fixture       *fixture,
             gconstpointer  data)
{
  run_sequence (fixture, 300, FALSE);
}

static void
test_random_reopen (Fixture       *fixture,
                    gconstpointer  data)
{
  run_sequence (fixture, 300, TRUE);
}

/* A process killed in the middle of its work keeps its undo history: the
 * child edits and dies of SIGKILL without closing anything; the parent
 * opens the project and undoes every edit. */
static void
test_crash (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(KpAnnotation) a = NULL;
      g_autoptr(GPtrArray) labels = kp_store_list_labels (fixture->store, &error);
      gint64 id;

      a = g_new0 (KpAnnotation, 1);
      a->label_id = ((KpLabel *)labels->pdata[0])->id;
      a->shape = KP_SHAPE_POLYGON;
      kp_annotation_set_points (a, (KpPoint[]) { { 0, 0 }, { 10, 0 }, { 0, 10 } }, 3);
      id = kp_document_add_annotation (fixture->document, a, &error);
      g_assert_no_error (error);
      g_assert_true (kp_document_move (fixture->document, &id, 1, 5, 5, &error));
      g_assert_true (kp_document_insert_vertex (fixture->document, id, 3,
                                                &(KpPoint) { 20, 20 }, &error));
      g_assert_no_error (error);
      raise (SIGKILL);
      return;
    }

  close_document (fixture);
  g_setenv ("KP_TEST_UNDO_FOLDER", fixture->folder, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_unsetenv ("KP_TEST_UNDO_FOLDER");

  open_document (fixture);
  {
    GPtrArray *all = kp_document_get_annotations (fixture->document);
    const KpAnnotation *a;

    g_assert_cmpuint (all->len, ==, 1);
    a = all->pdata[0];
    g_assert_cmpuint (a->n_points, ==, 4);
    g_assert_cmpfloat (a->points[0].x, ==, 5);
  }
  g_assert_cmpuint (kp_document_get_n_undo (fixture->document), ==, 3);
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_cmpuint (((KpAnnotation *)kp_document_get_annotations (fixture->document)->pdata[0])->n_points, ==, 3);
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_cmpfloat (((KpAnnotation *)kp_document_get_annotations (fixture->document)->pdata[0])->points[0].x, ==, 0);
  g_assert_true (kp_document_undo (fixture->document, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_annotations (fixture->document)->len, ==, 0);
  g_assert_false (kp_document_get_can_undo (fixture->document));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/core/undo-random/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("sequence", test_random);
  ADD ("sequence-reopen", test_random_reopen);
  ADD ("crash", test_crash);

#undef ADD

  return g_test_run ();
}
