/* test-consensus.c: majority vote, Dawid–Skene and multi-label consensus
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "kp-core.h"

/* ------------------------------------------------------------------ */
/* Hand-made cases                                                    */
/* ------------------------------------------------------------------ */

static void
test_method_names (void)
{
  KpConsensusMethod method = KP_CONSENSUS_ONE_COIN;

  g_assert_true (kp_consensus_method_from_string ("majority", &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_MAJORITY);
  g_assert_true (kp_consensus_method_from_string ("DS", &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_DAWID_SKENE);
  g_assert_true (kp_consensus_method_from_string ("Majority-Vote", &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_MAJORITY);
  g_assert_true (kp_consensus_method_from_string ("one-coin", &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_ONE_COIN);
  g_assert_true (kp_consensus_method_from_string ("Dawid-Skene", &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_DAWID_SKENE);
  g_assert_true (kp_consensus_method_from_string ("mv", &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_MAJORITY);
  g_assert_false (kp_consensus_method_from_string ("median", &method));
  g_assert_false (kp_consensus_method_from_string (NULL, &method));
  g_assert_cmpint (method, ==, KP_CONSENSUS_MAJORITY);

  g_assert_cmpstr (kp_consensus_method_to_string (KP_CONSENSUS_MAJORITY), ==, "majority");
  g_assert_cmpstr (kp_consensus_method_to_string (KP_CONSENSUS_DAWID_SKENE), ==, "dawid-skene");
  g_assert_cmpstr (kp_consensus_method_to_string (KP_CONSENSUS_ONE_COIN), ==, "one-coin");
}

static void
test_names (void)
{
  g_autoptr(KpVotes) votes = kp_votes_new ();

  g_assert_cmpuint (kp_votes_intern_item (votes, "hit-a"), ==, 0);
  g_assert_cmpuint (kp_votes_intern_item (votes, "hit-b"), ==, 1);
  g_assert_cmpuint (kp_votes_intern_item (votes, "hit-a"), ==, 0);
  g_assert_cmpuint (kp_votes_intern_worker (votes, "W1"), ==, 0);
  g_assert_cmpuint (kp_votes_intern_class (votes, "Cat"), ==, 0);
  g_assert_cmpuint (kp_votes_intern_class (votes, "Dog"), ==, 1);

  g_assert_cmpuint (kp_votes_lookup_item (votes, "hit-b"), ==, 1);
  g_assert_cmpuint (kp_votes_lookup_item (votes, "hit-c"), ==, G_MAXUINT);
  g_assert_cmpuint (kp_votes_lookup_class (votes, "Dog"), ==, 1);
  g_assert_cmpuint (kp_votes_lookup_worker (votes, "W2"), ==, G_MAXUINT);
  g_assert_cmpstr (kp_votes_get_class_name (votes, 1), ==, "Dog");
  g_assert_cmpstr (kp_votes_get_item_name (votes, 0), ==, "hit-a");
  g_assert_cmpstr (kp_votes_get_worker_name (votes, 0), ==, "W1");
  g_assert_null (kp_votes_get_worker_name (votes, 7));

  /* Sizes grow by reservation and by votes; those indices have no name,
   * and interning continues after them. */
  kp_votes_reserve (votes, 5, 3, 2, 100);
  g_assert_cmpuint (kp_votes_get_n_items (votes), ==, 5);
  g_assert_cmpuint (kp_votes_get_n_workers (votes), ==, 3);
  g_assert_cmpuint (kp_votes_get_n_classes (votes), ==, 2);
  g_assert_null (kp_votes_get_item_name (votes, 4));
  g_assert_cmpuint (kp_votes_intern_item (votes, "hit-c"), ==, 5);
  kp_votes_add (votes, 9, 4, 3);
  g_assert_cmpuint (kp_votes_get_n_items (votes), ==, 10);
  g_assert_cmpuint (kp_votes_get_n_workers (votes), ==, 5);
  g_assert_cmpuint (kp_votes_get_n_classes (votes), ==, 4);
  g_assert_cmpuint (kp_votes_get_n_votes (votes), ==, 1);
  g_assert_cmpuint (kp_votes_intern_class (votes, "Bird"), ==, 4);
}

/* Item 0: 0, 0, 1 (worker 0 first said 1, then 0); item 1: 1, 2 (a tie);
 * item 2: one vote for 2; item 3: no votes. */
static KpVotes *
hand_votes (void)
{
  KpVotes *votes = kp_votes_new ();

  kp_votes_reserve (votes, 4, 0, 0, 0);
  kp_votes_add (votes, 0, 0, 1);
  kp_votes_add (votes, 0, 1, 0);
  kp_votes_add (votes, 1, 2, 2);
  kp_votes_add (votes, 0, 2, 1);
  kp_votes_add (votes, 1, 0, 1);
  kp_votes_add (votes, 2, 1, 2);
  kp_votes_add (votes, 0, 0, 0);

  return votes;
}

static void
test_majority_hand (void)
{
  g_autoptr(KpVotes) votes = hand_votes ();
  g_autoptr(KpConsensus) mv = NULL;
  g_autoptr(GError) error = NULL;
  KpConsensusOptions options;

  g_assert_cmpuint (kp_votes_get_n_votes (votes), ==, 6);

  kp_consensus_options_init (&options, KP_CONSENSUS_MAJORITY);
  mv = kp_consensus_compute (votes, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (mv);

  g_assert_cmpint (mv->method, ==, KP_CONSENSUS_MAJORITY);
  g_assert_cmpuint (mv->n_items, ==, 4);
  g_assert_cmpuint (mv->n_workers, ==, 3);
  g_assert_cmpuint (mv->n_classes, ==, 3);
  g_assert_null (mv->confusion);
  g_assert_cmpuint (mv->iterations, ==, 0);

  /* Worker 0's second vote replaced the first: 0, 0, 1. */
  g_assert_cmpuint (mv->labels[0], ==, 0);
  g_assert_cmpfloat_with_epsilon (mv->confidence[0], 2.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (mv->posteriors[0 * 3 + 0], 2.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (mv->posteriors[0 * 3 + 1], 1.0 / 3.0, 1e-12);
  g_assert_cmpfloat (mv->posteriors[0 * 3 + 2], ==, 0.0);

  /* A tie goes to the lower class. */
  g_assert_cmpuint (mv->labels[1], ==, 1);
  g_assert_cmpfloat_with_epsilon (mv->confidence[1], 0.5, 1e-12);

  g_assert_cmpuint (mv->labels[2], ==, 2);
  g_assert_cmpfloat (mv->confidence[2], ==, 1.0);

  g_assert_cmpuint (mv->labels[3], ==, G_MAXUINT);
  g_assert_cmpfloat (mv->confidence[3], ==, 0.0);

  /* Agreement with the consensus: worker 0 (item 0 yes, item 1 yes),
   * worker 1 (0 yes, 2 yes), worker 2 (0 no, 1 no). */
  g_assert_cmpfloat (mv->worker_accuracy[0], ==, 1.0);
  g_assert_cmpfloat (mv->worker_accuracy[1], ==, 1.0);
  g_assert_cmpfloat (mv->worker_accuracy[2], ==, 0.0);

  /* Shares of all six votes: 0 twice, 1 twice, 2 twice. */
  for (guint k = 0; k < 3; k++)
    g_assert_cmpfloat_with_epsilon (mv->class_priors[k], 1.0 / 3.0, 1e-12);
}

static void
assert_distribution (const double *p,
                     gsize         n)
{
  double sum = 0;

  for (gsize j = 0; j < n; j++)
    {
      g_assert_true (isfinite (p[j]));
      g_assert_cmpfloat (p[j], >=, 0.0);
      g_assert_cmpfloat (p[j], <=, 1.0);
      sum += p[j];
    }
  g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-9);
}

static void
assert_model_sane (const KpConsensus *result)
{
  guint K = result->n_classes;

  g_assert_nonnull (result->confusion);
  assert_distribution (result->class_priors, K);
  for (guint i = 0; i < result->n_items; i++)
    assert_distribution (result->posteriors + (gsize) i * K, K);
  for (guint w = 0; w < result->n_workers; w++)
    {
      for (guint k = 0; k < K; k++)
        assert_distribution (result->confusion + ((gsize) w * K + k) * K, K);
      g_assert_cmpfloat (result->worker_accuracy[w], >, 0.0);
      g_assert_cmpfloat (result->worker_accuracy[w], <, 1.0);
    }
  g_assert_true (isfinite (result->log_likelihood));
  g_assert_cmpfloat (result->log_likelihood, <, 0.0);
}

static void
test_dawid_skene_hand (void)
{
  g_autoptr(KpVotes) votes = hand_votes ();
  KpConsensusMethod methods[] = { KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr(KpConsensus) result = NULL;
      g_autoptr(GError) error = NULL;
      KpConsensusOptions options;

      kp_consensus_options_init (&options, methods[m]);
      result = kp_consensus_compute (votes, &options, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (result);
      g_assert_cmpint (result->method, ==, methods[m]);
      assert_model_sane (result);
      g_assert_true (result->converged);
      g_assert_cmpuint (result->iterations, >=, 1);
      g_assert_cmpuint (result->iterations, <=, options.max_iterations);

      /* A lone vote decides its item; an item without votes has none,
       * and the class priors as posteriors. */
      g_assert_cmpuint (result->labels[2], ==, 2);
      g_assert_cmpuint (result->labels[3], ==, G_MAXUINT);
      g_assert_cmpfloat (result->confidence[3], ==, 0.0);
      for (guint k = 0; k < 3; k++)
        g_assert_cmpfloat (result->posteriors[3 * 3 + k], ==, result->class_priors[k]);
      g_assert_cmpuint (result->labels[0], ==, 0);
      for (guint i = 0; i < 3; i++)
        g_assert_cmpfloat (result->confidence[i], ==,
                           result->posteriors[i * 3 + result->labels[i]]);

      if (methods[m] == KP_CONSENSUS_ONE_COIN)
        {
          /* The full matrix is filled from one accuracy per worker. */
          for (guint w = 0; w < 3; w++)
            {
              const double *theta = result->confusion + w * 9;
              double a = theta[0];

              for (guint k = 0; k < 3; k++)
                for (guint j = 0; j < 3; j++)
                  g_assert_cmpfloat_with_epsilon (theta[k * 3 + j], k == j ? a : (1 - a) / 2, 1e-12);
              g_assert_cmpfloat_with_epsilon (result->worker_accuracy[w], a, 1e-12);
            }
        }
    }
}

/* The pseudo-counts keep a worker seen once from looking perfect: with
 * the defaults the one-coin accuracy is (1 + 2) / (1 + 3) at most. */
static void
test_priors_single_vote (void)
{
  KpConsensusMethod methods[] = { KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };
  g_autoptr(KpVotes) votes = kp_votes_new ();

  /* Workers 0–2 agree on ten items; worker 3 votes once, with them. */
  for (guint i = 0; i < 10; i++)
    for (guint w = 0; w < 3; w++)
      kp_votes_add (votes, i, w, i % 2);
  kp_votes_add (votes, 4, 3, 0);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr(KpConsensus) result = NULL;
      KpConsensusOptions options;

      kp_consensus_options_init (&options, methods[m]);
      result = kp_consensus_compute (votes, &options, NULL, NULL);
      g_assert_nonnull (result);
      g_assert_cmpfloat (result->worker_accuracy[3], <, 0.8);
      g_assert_cmpfloat (result->worker_accuracy[3], >, 0.5);
      /* Ten agreeing votes weigh more than one. */
      g_assert_cmpfloat (result->worker_accuracy[0], >, result->worker_accuracy[3]);

      g_assert_cmpfloat (result->confusion[3 * 4 + 0], <, 0.8);

      /* Without pseudo-counts a worker right once is perfect (in the
       * row of the class seen). */
      options.prior_diagonal = 0;
      options.prior_off_diagonal = 0;
      g_clear_pointer (&result, kp_consensus_free);
      result = kp_consensus_compute (votes, &options, NULL, NULL);
      g_assert_nonnull (result);
      g_assert_cmpfloat (result->confusion[3 * 4 + 0], >, 0.99);
    }
}

static void
test_invalid_options (void)
{
  g_autoptr(KpVotes) votes = hand_votes ();
  g_autoptr(KpConsensus) result = NULL;
  g_autoptr(GError) error = NULL;
  KpConsensusOptions options;

  kp_consensus_options_init (&options, KP_CONSENSUS_DAWID_SKENE);
  options.prior_class = -1;
  result = kp_consensus_compute (votes, &options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID);
  g_clear_error (&error);

  kp_consensus_options_init (&options, KP_CONSENSUS_DAWID_SKENE);
  options.tolerance = NAN;
  result = kp_consensus_compute (votes, &options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID);
  g_clear_error (&error);

  kp_consensus_options_init (&options, KP_CONSENSUS_DAWID_SKENE);
  options.method = 42;
  result = kp_consensus_compute (votes, &options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID);
}

static void
test_empty (void)
{
  KpConsensusMethod methods[] = { KP_CONSENSUS_MAJORITY, KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr(KpVotes) votes = kp_votes_new ();
      g_autoptr(KpConsensus) result = NULL;
      g_autoptr(KpConsensus) one_class = NULL;
      KpConsensusOptions options;

      kp_consensus_options_init (&options, methods[m]);
      result = kp_consensus_compute (votes, &options, NULL, NULL);
      g_assert_nonnull (result);
      g_assert_cmpuint (result->n_items, ==, 0);

      /* One class only: every voted item gets it, for sure. */
      kp_votes_add (votes, 1, 0, 0);
      kp_votes_add (votes, 1, 1, 0);
      one_class = kp_consensus_compute (votes, &options, NULL, NULL);
      g_assert_nonnull (one_class);
      g_assert_cmpuint (one_class->labels[0], ==, G_MAXUINT);
      g_assert_cmpuint (one_class->labels[1], ==, 0);
      g_assert_cmpfloat (one_class->confidence[1], ==, 1.0);
    }
}

/* ------------------------------------------------------------------ */
/* Simulated crowds                                                   */
/* ------------------------------------------------------------------ */

typedef enum
{
  GOOD,          /* 0.8 right, class 0 and 1 confused systematically */
  MEDIUM,        /* 0.6 right, errors uniform */
  SPAMMER,       /* uniform at random */
  ADVERSARY,     /* always (true + 1) mod K */
  N_KINDS
} WorkerKind;

typedef struct
{
  guint       n_items;
  guint       n_workers;
  guint       n_classes;
  guint      *truth;
  WorkerKind *kind;
  double     *true_accuracy;
  KpVotes    *votes;
} Crowd;

static void
crowd_free (Crowd *crowd)
{
  g_free (crowd->truth);
  g_free (crowd->kind);
  g_free (crowd->true_accuracy);
  kp_votes_free (crowd->votes);
  g_free (crowd);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Crowd, crowd_free)

static guint
worker_answer (WorkerKind  kind,
               guint       truth,
               guint       K,
               GRand      *rand)
{
  double u = g_rand_double (rand);

  switch (kind)
    {
    case GOOD:
      if (u < 0.8)
        return truth;
      /* Most errors on classes 0 and 1 are the other one of the pair. */
      if (truth <= 1 && u < 0.95)
        return 1 - truth;
      return g_rand_int_range (rand, 0, K);
    case MEDIUM:
      if (u < 0.6)
        return truth;
      return g_rand_int_range (rand, 0, K);
    case SPAMMER:
      return g_rand_int_range (rand, 0, K);
    case ADVERSARY:
      return (truth + 1) % K;
    case N_KINDS:
    default:
      g_assert_not_reached ();
    }
}

/* counts[kind] workers of each kind; each item labelled by per_item
 * distinct workers drawn at random. */
static Crowd *
crowd_new (guint32      seed,
           guint        n_items,
           guint        n_classes,
           const guint  counts[N_KINDS],
           guint        per_item)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  Crowd *crowd = g_new0 (Crowd, 1);
  g_autofree guint *chosen = g_new (guint, per_item);
  g_autofree guint *n_right = NULL;
  g_autofree guint *n_given = NULL;

  for (guint kind = 0; kind < N_KINDS; kind++)
    crowd->n_workers += counts[kind];
  crowd->n_items = n_items;
  crowd->n_classes = n_classes;
  crowd->truth = g_new (guint, n_items);
  crowd->kind = g_new (WorkerKind, crowd->n_workers);
  crowd->true_accuracy = g_new0 (double, crowd->n_workers);
  crowd->votes = kp_votes_new ();
  n_right = g_new0 (guint, crowd->n_workers);
  n_given = g_new0 (guint, crowd->n_workers);

  for (guint kind = 0, w = 0; kind < N_KINDS; kind++)
    for (guint j = 0; j < counts[kind]; j++)
      crowd->kind[w++] = kind;

  kp_votes_reserve (crowd->votes, n_items, crowd->n_workers, n_classes, (gsize) n_items * per_item);

  for (guint i = 0; i < n_items; i++)
    {
      crowd->truth[i] = g_rand_int_range (rand, 0, n_classes);

      for (guint r = 0; r < per_item; r++)
        {
          gboolean fresh;
          guint w, answer;

          do
            {
              w = g_rand_int_range (rand, 0, crowd->n_workers);
              fresh = TRUE;
              for (guint s = 0; s < r; s++)
                fresh = fresh && chosen[s] != w;
            }
          while (!fresh);
          chosen[r] = w;

          answer = worker_answer (crowd->kind[w], crowd->truth[i], n_classes, rand);
          kp_votes_add (crowd->votes, i, w, answer);
          n_given[w]++;
          n_right[w] += answer == crowd->truth[i];
        }
    }

  for (guint w = 0; w < crowd->n_workers; w++)
    crowd->true_accuracy[w] = n_given[w] > 0 ? (double) n_right[w] / n_given[w] : 0;

  return crowd;
}

static double
label_accuracy (const Crowd       *crowd,
                const KpConsensus *result)
{
  guint right = 0;

  for (guint i = 0; i < crowd->n_items; i++)
    right += result->labels[i] == crowd->truth[i];

  return (double) right / crowd->n_items;
}

static KpConsensus *
run (const Crowd       *crowd,
     KpConsensusMethod  method,
     gboolean           warm_start,
     guint              n_threads)
{
  g_autoptr(GError) error = NULL;
  KpConsensusOptions options;
  KpConsensus *result;

  kp_consensus_options_init (&options, method);
  options.warm_start = warm_start;
  options.n_threads = n_threads;
  result = kp_consensus_compute (crowd->votes, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);

  return result;
}

static double
mean_accuracy (const Crowd       *crowd,
               const KpConsensus *result,
               WorkerKind         kind,
               double            *min,
               double            *max)
{
  double sum = 0;
  guint n = 0;

  *min = 1;
  *max = 0;
  for (guint w = 0; w < crowd->n_workers; w++)
    {
      if (crowd->kind[w] != kind)
        continue;
      sum += result->worker_accuracy[w];
      *min = MIN (*min, result->worker_accuracy[w]);
      *max = MAX (*max, result->worker_accuracy[w]);
      n++;
    }

  return sum / n;
}

/* 3 good, 3 medium, 8 spammers and 4 adversaries; 5 of them per item:
 * a crowd where the plurality is often wrong. */
static const guint hard_crowd[N_KINDS] = { 3, 3, 8, 4 };

static void
test_simulated_crowd (void)
{
  g_autoptr(Crowd) crowd = crowd_new (20261124, 3000, 4, hard_crowd, 5);
  g_autoptr(KpConsensus) mv = run (crowd, KP_CONSENSUS_MAJORITY, TRUE, 0);
  g_autoptr(KpConsensus) ds = run (crowd, KP_CONSENSUS_DAWID_SKENE, TRUE, 0);
  g_autoptr(KpConsensus) oc = run (crowd, KP_CONSENSUS_ONE_COIN, TRUE, 0);
  double mv_accuracy = label_accuracy (crowd, mv);
  double ds_accuracy = label_accuracy (crowd, ds);
  double oc_accuracy = label_accuracy (crowd, oc);
  double mean[N_KINDS], min[N_KINDS], max[N_KINDS];
  guint K = crowd->n_classes;

  g_test_message ("accuracy: majority %.4f, dawid-skene %.4f (%u iterations), one-coin %.4f (%u)",
                  mv_accuracy, ds_accuracy, ds->iterations, oc_accuracy, oc->iterations);

  assert_model_sane (ds);
  assert_model_sane (oc);
  g_assert_true (ds->converged);
  g_assert_true (oc->converged);

  /* Dawid–Skene turns the adversaries' answers around and ignores the
   * spammers; the majority cannot. */
  g_assert_cmpfloat (ds_accuracy, >, 0.9);
  g_assert_cmpfloat (ds_accuracy, >, mv_accuracy + 0.2);
  g_assert_cmpfloat (oc_accuracy, >=, mv_accuracy);

  /* Estimated accuracies ordered as the true ones: good > medium >
   * spammer > adversary, every good worker above every spammer. */
  for (guint kind = 0; kind < N_KINDS; kind++)
    {
      mean[kind] = mean_accuracy (crowd, ds, kind, &min[kind], &max[kind]);
      g_test_message ("kind %u: estimated %.3f (%.3f..%.3f)", kind, mean[kind], min[kind], max[kind]);
    }
  g_assert_cmpfloat (mean[GOOD], >, mean[MEDIUM]);
  g_assert_cmpfloat (mean[MEDIUM], >, mean[SPAMMER]);
  g_assert_cmpfloat (mean[SPAMMER], >, mean[ADVERSARY]);
  g_assert_cmpfloat (min[GOOD], >, max[SPAMMER]);
  g_assert_cmpfloat (max[ADVERSARY], <, 0.1);
  for (guint w = 0; w < crowd->n_workers; w++)
    g_assert_cmpfloat (fabs (ds->worker_accuracy[w] - crowd->true_accuracy[w]), <, 0.1);

  for (guint w = 0; w < crowd->n_workers; w++)
    {
      const double *theta = ds->confusion + (gsize) w * K * K;

      if (crowd->kind[w] == ADVERSARY)
        {
          /* The permutation is found: true k is answered k + 1. */
          for (guint k = 0; k < K; k++)
            g_assert_cmpfloat (theta[k * K + (k + 1) % K], >, 0.8);
        }
      else if (crowd->kind[w] == GOOD)
        {
          /* The systematic confusion between classes 0 and 1 (true
           * rate 0.15 + 0.05 / 4) stands out of the other errors (0.05 / 4). */
          g_assert_cmpfloat (fabs (theta[0 * K + 1] - 0.1625), <, 0.07);
          g_assert_cmpfloat (fabs (theta[1 * K + 0] - 0.1625), <, 0.07);
          g_assert_cmpfloat (theta[2 * K + 3], <, 0.09);
          g_assert_cmpfloat (theta[0 * K + 1], >, 2 * theta[2 * K + 3]);
          g_assert_cmpfloat (fabs (theta[2 * K + 2] - 0.8 - 0.2 / 4), <, 0.07);
        }
    }

  /* Majority: the adversaries never agree; the good workers most. */
  mean[GOOD] = mean_accuracy (crowd, mv, GOOD, &min[GOOD], &max[GOOD]);
  mean[ADVERSARY] = mean_accuracy (crowd, mv, ADVERSARY, &min[ADVERSARY], &max[ADVERSARY]);
  g_assert_cmpfloat (mean[GOOD], >, mean[ADVERSARY]);
}

/* Without adversaries one-coin is right to spread errors evenly, and
 * both models beat the plurality: they weigh the spammers down. */
static void
test_simulated_spammers (void)
{
  static const guint counts[N_KINDS] = { 4, 4, 8, 0 };
  g_autoptr(Crowd) crowd = crowd_new (7, 3000, 5, counts, 5);
  g_autoptr(KpConsensus) mv = run (crowd, KP_CONSENSUS_MAJORITY, TRUE, 0);
  g_autoptr(KpConsensus) ds = run (crowd, KP_CONSENSUS_DAWID_SKENE, TRUE, 0);
  g_autoptr(KpConsensus) oc = run (crowd, KP_CONSENSUS_ONE_COIN, TRUE, 0);
  double mv_accuracy = label_accuracy (crowd, mv);
  double ds_accuracy = label_accuracy (crowd, ds);
  double oc_accuracy = label_accuracy (crowd, oc);
  double spam_min, spam_max, good_min, good_max;

  g_test_message ("accuracy: majority %.4f, dawid-skene %.4f, one-coin %.4f",
                  mv_accuracy, ds_accuracy, oc_accuracy);

  g_assert_cmpfloat (ds_accuracy, >, mv_accuracy + 0.03);
  g_assert_cmpfloat (oc_accuracy, >, mv_accuracy + 0.03);

  mean_accuracy (crowd, oc, SPAMMER, &spam_min, &spam_max);
  mean_accuracy (crowd, oc, GOOD, &good_min, &good_max);
  g_assert_cmpfloat (good_min, >, spam_max);
  g_assert_cmpfloat (spam_max, <, 0.35);
}

static void
test_warm_start (void)
{
  KpConsensusMethod methods[] = { KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };
  g_autoptr(Crowd) crowd = crowd_new (99, 2000, 4, hard_crowd, 5);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr(KpConsensus) warm = run (crowd, methods[m], TRUE, 0);
      g_autoptr(KpConsensus) cold = run (crowd, methods[m], FALSE, 0);

      g_test_message ("%s: warm %u iterations, cold %u",
                      kp_consensus_method_to_string (methods[m]),
                      warm->iterations, cold->iterations);
      g_assert_true (warm->converged);
      g_assert_cmpuint (warm->iterations, <=, cold->iterations);
      g_assert_cmpuint (cold->iterations, >=, 2);
    }
}

/* The item ranges of several threads give the same model as one. */
static void
test_threads (void)
{
  g_autoptr(Crowd) crowd = crowd_new (3, 20000, 4, hard_crowd, 5);
  g_autoptr(KpConsensus) one = run (crowd, KP_CONSENSUS_DAWID_SKENE, TRUE, 1);
  g_autoptr(KpConsensus) four = run (crowd, KP_CONSENSUS_DAWID_SKENE, TRUE, 4);
  guint K = crowd->n_classes;

  g_assert_cmpuint (one->iterations, ==, four->iterations);
  g_assert_cmpfloat_with_epsilon (one->log_likelihood, four->log_likelihood,
                                  1e-9 * fabs (one->log_likelihood));
  for (gsize j = 0; j < (gsize) crowd->n_items * K; j++)
    g_assert_cmpfloat_with_epsilon (one->posteriors[j], four->posteriors[j], 1e-9);
  for (gsize j = 0; j < (gsize) crowd->n_workers * K * K; j++)
    g_assert_cmpfloat_with_epsilon (one->confusion[j], four->confusion[j], 1e-9);
  for (guint i = 0; i < crowd->n_items; i++)
    g_assert_cmpuint (one->labels[i], ==, four->labels[i]);
}

/* EM never lowers the likelihood: more iterations, higher or equal. */
static void
test_likelihood_rises (void)
{
  g_autoptr(Crowd) crowd = crowd_new (11, 1000, 3, hard_crowd, 5);
  double previous = -INFINITY;

  for (guint n = 1; n <= 6; n++)
    {
      g_autoptr(KpConsensus) result = NULL;
      KpConsensusOptions options;

      kp_consensus_options_init (&options, KP_CONSENSUS_DAWID_SKENE);
      options.max_iterations = n;
      /* Maximum likelihood: pseudo-counts would make EM climb the
       * posterior instead. */
      options.prior_diagonal = 0;
      options.prior_off_diagonal = 0;
      options.prior_class = 0;
      options.warm_start = FALSE;
      result = kp_consensus_compute (crowd->votes, &options, NULL, NULL);
      g_assert_nonnull (result);
      g_assert_cmpuint (result->iterations, ==, n);
      g_assert_false (result->converged);
      g_assert_cmpfloat (result->log_likelihood, >=, previous - 1e-9);
      previous = result->log_likelihood;
    }
}

static void
test_cancelled (void)
{
  g_autoptr(Crowd) crowd = crowd_new (5, 500, 3, hard_crowd, 3);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(KpMultiVotes) multi = kp_multi_votes_new ();
  KpConsensusMethod methods[] = { KP_CONSENSUS_MAJORITY, KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };
  guint classes[] = { 0, 2 };

  kp_multi_votes_add (multi, 0, 0, classes, 2);
  g_cancellable_cancel (cancellable);

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr(KpConsensus) result = NULL;
      g_autoptr(KpMultiConsensus) multi_result = NULL;
      g_autoptr(GError) error = NULL;
      KpConsensusOptions options;

      kp_consensus_options_init (&options, methods[m]);
      result = kp_consensus_compute (crowd->votes, &options, cancellable, &error);
      g_assert_null (result);
      g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_CANCELLED);
      g_clear_error (&error);

      multi_result = kp_multi_consensus_compute (multi, &options, cancellable, &error);
      g_assert_null (multi_result);
      g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_CANCELLED);
    }
}

static gpointer
cancel_soon_thread (gpointer data)
{
  g_usleep (10 * G_TIME_SPAN_MILLISECOND);
  g_cancellable_cancel (data);
  return NULL;
}

/* Cancelled while iterating (tolerance 0 keeps EM going until then):
 * the error comes back within an iteration. */
static void
test_cancelled_running (void)
{
  g_autoptr(Crowd) crowd = crowd_new (6, 60000, 4, hard_crowd, 5);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(KpConsensus) result = NULL;
  g_autoptr(GError) error = NULL;
  KpConsensusOptions options;
  GThread *thread;
  gint64 start;

  kp_consensus_options_init (&options, KP_CONSENSUS_DAWID_SKENE);
  options.tolerance = 0;
  options.max_iterations = G_MAXUINT;

  start = g_get_monotonic_time ();
  thread = g_thread_new ("cancel", cancel_soon_thread, cancellable);
  result = kp_consensus_compute (crowd->votes, &options, cancellable, &error);
  g_thread_join (thread);

  g_assert_null (result);
  g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
}

/* Two adversaries and two good workers on every item: the votes alone
 * cannot tell which pair to believe (the majority follows the tie-break);
 * a tenth of the items with known labels shows Dawid–Skene who is who. */
static void
test_known_labels (void)
{
  const guint n_items = 600, K = 3;
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  g_autoptr(KpVotes) votes = kp_votes_new ();
  g_autofree guint *truth = g_new (guint, n_items);
  KpConsensusMethod methods[] = { KP_CONSENSUS_MAJORITY, KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };

  for (guint i = 0; i < n_items; i++)
    {
      truth[i] = g_rand_int_range (rand, 0, K);
      for (guint w = 0; w < 2; w++)
        kp_votes_add (votes, i, w, g_rand_double (rand) < 0.85 ? truth[i]
                                                                 : (guint) g_rand_int_range (rand, 0, K));
      for (guint w = 2; w < 4; w++)
        kp_votes_add (votes, i, w, (truth[i] + 1) % K);
    }

  for (guint gold = 0; gold < 2; gold++)
    {
      if (gold)
        {
          for (guint i = 0; i < n_items; i += 10)
            kp_votes_set_known (votes, i, truth[i]);
          /* Set and unset again: no longer known. */
          kp_votes_set_known (votes, 1, (truth[1] + 2) % K);
          kp_votes_set_known (votes, 1, G_MAXUINT);
        }

      for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
        {
          g_autoptr(KpConsensus) result = NULL;
          KpConsensusOptions options;
          guint right = 0, right_unknown = 0;

          kp_consensus_options_init (&options, methods[m]);
          result = kp_consensus_compute (votes, &options, NULL, NULL);
          g_assert_nonnull (result);

          for (guint i = 0; i < n_items; i++)
            {
              right += result->labels[i] == truth[i];
              if (i % 10 != 0)
                right_unknown += result->labels[i] == truth[i];
              if (gold && i % 10 == 0)
                {
                  g_assert_cmpuint (result->labels[i], ==, truth[i]);
                  g_assert_cmpfloat (result->confidence[i], ==, 1.0);
                  g_assert_cmpfloat (result->posteriors[i * K + truth[i]], ==, 1.0);
                }
            }

          g_test_message ("%s, %s: accuracy %.3f (items not known: %.3f)",
                          kp_consensus_method_to_string (methods[m]),
                          gold ? "a tenth known" : "none known",
                          (double) right / n_items, right_unknown / (n_items * 0.9));

          if (!gold && methods[m] == KP_CONSENSUS_MAJORITY)
            g_assert_cmpfloat ((double) right / n_items, <, 0.7);
          else if (!gold && methods[m] == KP_CONSENSUS_DAWID_SKENE)
            g_assert_cmpfloat ((double) right / n_items, <, 0.5);  /* the perfectly consistent pair wins */
          else if (gold && methods[m] == KP_CONSENSUS_MAJORITY)
            g_assert_cmpfloat (right_unknown / (n_items * 0.9), <, 0.7);
          else if (gold && methods[m] == KP_CONSENSUS_DAWID_SKENE)
            {
              g_assert_true (result->converged);
              g_assert_cmpfloat (right_unknown / (n_items * 0.9), >, 0.9);
              /* The adversaries are found out. */
              for (guint w = 2; w < 4; w++)
                g_assert_cmpfloat (result->worker_accuracy[w], <, 0.1);
              g_assert_cmpfloat (result->worker_accuracy[0], >, 0.8);
            }
        }
    }
}

/* ------------------------------------------------------------------ */
/* Multi-label                                                        */
/* ------------------------------------------------------------------ */

static void
test_multi_hand (void)
{
  g_autoptr(KpMultiVotes) votes = kp_multi_votes_new ();
  g_autoptr(KpMultiConsensus) result = NULL;
  g_autoptr(GError) error = NULL;
  KpVotes *names = kp_multi_votes_get_names (votes);
  KpConsensusOptions options;
  guint cat = kp_votes_intern_class (names, "Cat");
  guint dog = kp_votes_intern_class (names, "Dog");
  guint bird = kp_votes_intern_class (names, "Bird");
  guint item = kp_votes_intern_item (names, "hit");
  guint a = kp_votes_intern_worker (names, "A");
  guint b = kp_votes_intern_worker (names, "B");
  guint c = kp_votes_intern_worker (names, "C");
  guint cat_dog[] = { cat, dog };
  guint cat_only[] = { cat };
  guint dog_only[] = { dog };

  kp_multi_votes_add (votes, item, a, cat_dog, 2);
  kp_multi_votes_add (votes, item, b, cat_only, 1);
  /* C first said Dog, then nothing: the empty set replaces it. */
  kp_multi_votes_add (votes, item, c, dog_only, 1);
  kp_multi_votes_add (votes, item, c, NULL, 0);
  kp_votes_reserve (names, 2, 0, 0, 0);

  kp_consensus_options_init (&options, KP_CONSENSUS_MAJORITY);
  result = kp_multi_consensus_compute (votes, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  g_assert_cmpuint (result->n_items, ==, 2);
  g_assert_cmpuint (result->n_classes, ==, 3);
  g_assert_cmpuint (result->n_workers, ==, 3);

  g_assert_cmpuint (result->present[item * 3 + cat], ==, 1);
  g_assert_cmpfloat_with_epsilon (result->probability[item * 3 + cat], 2.0 / 3.0, 1e-12);
  g_assert_cmpuint (result->present[item * 3 + dog], ==, 0);
  g_assert_cmpfloat_with_epsilon (result->probability[item * 3 + dog], 1.0 / 3.0, 1e-12);
  g_assert_cmpuint (result->present[item * 3 + bird], ==, 0);
  g_assert_cmpfloat (result->probability[item * 3 + bird], ==, 0.0);

  /* Nobody answered item 1. */
  for (guint k = 0; k < 3; k++)
    g_assert_cmpuint (result->present[1 * 3 + k], ==, 0);

  /* Agreement averaged over the three binary questions: A 2/3 + ... */
  g_assert_cmpfloat_with_epsilon (result->worker_accuracy[a], 2.0 / 3.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (result->worker_accuracy[b], 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (result->worker_accuracy[c], 2.0 / 3.0, 1e-12);
}

/* Good workers (rarely miss a class, rarely add one), lazy ones (tick
 * half of what they see) and spammers (tick at random). */
static void
test_multi_simulated (void)
{
  const guint n_items = 2000, n_workers = 15, n_classes = 5, per_item = 5;
  g_autoptr(GRand) rand = g_rand_new_with_seed (424242);
  g_autoptr(KpMultiVotes) votes = kp_multi_votes_new ();
  g_autofree guint8 *truth = g_new0 (guint8, n_items * n_classes);
  KpConsensusMethod methods[] = { KP_CONSENSUS_MAJORITY, KP_CONSENSUS_DAWID_SKENE, KP_CONSENSUS_ONE_COIN };
  double accuracy[G_N_ELEMENTS (methods)];

  for (guint i = 0; i < n_items; i++)
    {
      guint chosen[5];

      for (guint k = 0; k < n_classes; k++)
        truth[i * n_classes + k] = g_rand_double (rand) < 0.3;

      for (guint r = 0; r < per_item; r++)
        {
          guint answer[5];
          guint n_answer = 0;
          gboolean fresh;
          guint w;

          do
            {
              w = g_rand_int_range (rand, 0, n_workers);
              fresh = TRUE;
              for (guint s = 0; s < r; s++)
                fresh = fresh && chosen[s] != w;
            }
          while (!fresh);
          chosen[r] = w;

          for (guint k = 0; k < n_classes; k++)
            {
              gboolean present = truth[i * n_classes + k];
              double u = g_rand_double (rand);
              gboolean ticked;

              if (w < 4)
                ticked = present ? u < 0.9 : u < 0.05;
              else if (w < 8)
                ticked = present ? u < 0.5 : u < 0.05;
              else
                ticked = u < 0.5;

              if (ticked)
                answer[n_answer++] = k;
            }

          kp_multi_votes_add (votes, i, w, answer, n_answer);
        }
    }

  for (guint m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autoptr(KpMultiConsensus) result = NULL;
      g_autoptr(GError) error = NULL;
      KpConsensusOptions options;
      guint right = 0;

      kp_consensus_options_init (&options, methods[m]);
      result = kp_multi_consensus_compute (votes, &options, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (result);
      g_assert_cmpuint (result->n_items, ==, n_items);
      g_assert_cmpuint (result->n_classes, ==, n_classes);

      for (guint j = 0; j < n_items * n_classes; j++)
        {
          g_assert_cmpuint (result->present[j], ==, result->probability[j] >= 0.5);
          right += result->present[j] == truth[j];
        }
      accuracy[m] = (double) right / (n_items * n_classes);
      g_test_message ("multi-label %s: %.4f", kp_consensus_method_to_string (methods[m]), accuracy[m]);

      if (methods[m] != KP_CONSENSUS_MAJORITY)
        {
          /* Good workers are seen as better than spammers. */
          for (guint w = 0; w < 4; w++)
            for (guint s = 8; s < n_workers; s++)
              g_assert_cmpfloat (result->worker_accuracy[w], >, result->worker_accuracy[s]);
        }
    }

  g_assert_cmpfloat (accuracy[1], >=, accuracy[0]);
  g_assert_cmpfloat (accuracy[2], >=, accuracy[0]);
  g_assert_cmpfloat (accuracy[1], >, 0.9);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/consensus/method-names", test_method_names);
  g_test_add_func ("/kempelen/core/consensus/names", test_names);
  g_test_add_func ("/kempelen/core/consensus/majority-hand", test_majority_hand);
  g_test_add_func ("/kempelen/core/consensus/dawid-skene-hand", test_dawid_skene_hand);
  g_test_add_func ("/kempelen/core/consensus/priors-single-vote", test_priors_single_vote);
  g_test_add_func ("/kempelen/core/consensus/invalid-options", test_invalid_options);
  g_test_add_func ("/kempelen/core/consensus/empty", test_empty);
  g_test_add_func ("/kempelen/core/consensus/simulated-crowd", test_simulated_crowd);
  g_test_add_func ("/kempelen/core/consensus/simulated-spammers", test_simulated_spammers);
  g_test_add_func ("/kempelen/core/consensus/warm-start", test_warm_start);
  g_test_add_func ("/kempelen/core/consensus/threads", test_threads);
  g_test_add_func ("/kempelen/core/consensus/likelihood-rises", test_likelihood_rises);
  g_test_add_func ("/kempelen/core/consensus/cancelled", test_cancelled);
  g_test_add_func ("/kempelen/core/consensus/cancelled-running", test_cancelled_running);
  g_test_add_func ("/kempelen/core/consensus/known-labels", test_known_labels);
  g_test_add_func ("/kempelen/core/consensus/multi-hand", test_multi_hand);
  g_test_add_func ("/kempelen/core/consensus/multi-simulated", test_multi_simulated);

  return g_test_run ();
}
