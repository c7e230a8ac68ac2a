/* bench-consensus.c: consensus of 1,000,000 classification labels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * 200,000 items, each labelled by 5 of 100 simulated workers, 10 classes:
 * majority vote, Dawid–Skene with full confusion matrices and the
 * one-coin model, each run to convergence. The crowd comes from a fixed
 * seed, so the accuracies printed are the same from run to run; the
 * times are the wall clock of kp_consensus_compute () (the layout by
 * item included).
 */

#include "config.h"

#include <stdio.h>

#include "kp-core.h"

#define N_ITEMS    200000
#define N_WORKERS  100
#define N_CLASSES  10
#define PER_ITEM   5

typedef struct
{
  guint   *truth;
  KpVotes *votes;
} Crowd;

/* Workers 0–59 are good (right 65–90 % of the time, half of their errors
 * on one favourite wrong class per true class), 60–79 sloppy (right
 * 40–60 %, errors uniform), 80–94 spammers (uniform), 95–99 adversaries
 * (a fixed permutation of the classes). */
static void
make_confusion (GRand  *rand,
                guint   w,
                double *theta)
{
  const guint K = N_CLASSES;

  for (guint k = 0; k < K; k++)
    {
      double *row = theta + k * K;

      for (guint j = 0; j < K; j++)
        row[j] = 0;

      if (w < 60)
        {
          double accuracy = g_rand_double_range (rand, 0.65, 0.9);
          guint favourite = (k + 1 + g_rand_int_range (rand, 0, K - 1)) % K;

          for (guint j = 0; j < K; j++)
            row[j] = (1 - accuracy) * 0.5 / K;
          row[k] += accuracy;
          row[favourite] += (1 - accuracy) * 0.5;
        }
      else if (w < 80)
        {
          double accuracy = g_rand_double_range (rand, 0.4, 0.6);

          for (guint j = 0; j < K; j++)
            row[j] = (1 - accuracy) / K;
          row[k] += accuracy;
        }
      else if (w < 95)
        {
          for (guint j = 0; j < K; j++)
            row[j] = 1.0 / K;
        }
      else
        {
          row[(k * 3 + 1) % K] = 1.0;
        }
    }
}

static void
make_crowd (Crowd *crowd)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261124);
  g_autofree double *theta = g_new (double, N_WORKERS * N_CLASSES * N_CLASSES);

  for (guint w = 0; w < N_WORKERS; w++)
    make_confusion (rand, w, theta + w * N_CLASSES * N_CLASSES);

  crowd->truth = g_new (guint, N_ITEMS);
  crowd->votes = kp_votes_new ();
  kp_votes_reserve (crowd->votes, N_ITEMS, N_WORKERS, N_CLASSES, (gsize) N_ITEMS * PER_ITEM);

  for (guint i = 0; i < N_ITEMS; i++)
    {
      guint chosen[PER_ITEM];

      crowd->truth[i] = g_rand_int_range (rand, 0, N_CLASSES);

      for (guint r = 0; r < PER_ITEM; r++)
        {
          const double *row;
          gboolean fresh;
          double u, sum = 0;
          guint w, answer = N_CLASSES - 1;

          do
            {
              w = g_rand_int_range (rand, 0, N_WORKERS);
              fresh = TRUE;
              for (guint s = 0; s < r; s++)
                fresh = fresh && chosen[s] != w;
            }
          while (!fresh);
          chosen[r] = w;

          row = theta + (w * N_CLASSES + crowd->truth[i]) * N_CLASSES;
          u = g_rand_double (rand);
          for (guint j = 0; j < N_CLASSES; j++)
            {
              sum += row[j];
              if (u < sum)
                {
                  answer = j;
                  break;
                }
            }

          kp_votes_add (crowd->votes, i, w, answer);
        }
    }
}

static double
run (const Crowd       *crowd,
     KpConsensusMethod  method,
     const char        *name)
{
  g_autoptr(KpConsensus) result = NULL;
  g_autoptr(GError) error = NULL;
  KpConsensusOptions options;
  gint64 start;
  double seconds;
  guint right = 0;

  kp_consensus_options_init (&options, method);
  start = g_get_monotonic_time ();
  result = kp_consensus_compute (crowd->votes, &options, NULL, &error);
  seconds = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  g_assert_no_error (error);

  for (guint i = 0; i < N_ITEMS; i++)
    right += result->labels[i] == crowd->truth[i];

  printf ("BENCH %s_1m_s %.3f s\n", name, seconds);
  printf ("BENCH %s_1m_accuracy %.4f ratio\n", name, (double) right / N_ITEMS);
  if (method != KP_CONSENSUS_MAJORITY)
    printf ("BENCH %s_1m_iterations %u count\n", name, result->iterations);
  if (method != KP_CONSENSUS_MAJORITY && !result->converged)
    printf ("# %s did not converge in %u iterations\n", name, options.max_iterations);
  fflush (stdout);

  return seconds;
}

int
main (int   argc,
      char *argv[])
{
  Crowd crowd;
  gint64 start;
  double ds_seconds;

  start = g_get_monotonic_time ();
  make_crowd (&crowd);
  printf ("# crowd: %u items x %u labels of %u workers, %u classes, %" G_GSIZE_FORMAT " votes,"
          " made in %.2f s; %u threads\n",
          N_ITEMS, PER_ITEM, N_WORKERS, N_CLASSES, kp_votes_get_n_votes (crowd.votes),
          (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC,
          g_get_num_processors ());

  run (&crowd, KP_CONSENSUS_MAJORITY, "majority_vote");
  ds_seconds = run (&crowd, KP_CONSENSUS_DAWID_SKENE, "dawid_skene");
  run (&crowd, KP_CONSENSUS_ONE_COIN, "one_coin");

  printf ("# target: dawid_skene_1m_s <= 2 s: %s\n", ds_seconds <= 2.0 ? "met" : "missed");

  kp_votes_free (crowd.votes);
  g_free (crowd.truth);

  return 0;
}
