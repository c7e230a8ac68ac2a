/* kp-consensus.c: classification votes consolidated by majority vote or
 * Dawid–Skene expectation-maximisation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Votes are stored as three parallel arrays (item, worker, class) in the
 * order they were added, so that adding a million of them is a few
 * appends. Every computation first turns them into a compressed layout by
 * item (a counting sort), dropping a worker's earlier votes for an item in
 * favour of the last one, and then works on that layout only.
 *
 * Dawid–Skene (Dawid & Skene 1979, "Maximum likelihood estimation of
 * observer error-rates using the EM algorithm"): each worker w has a
 * confusion matrix θ_w[true][given], the classes have priors π. The E-step
 * gives each item the posterior P(true = k | its votes) ∝ π_k Π θ_w[k][given],
 * computed in log space with a per-iteration table of log θ laid out
 * [worker][given][true] so that the inner loop over the true class is
 * contiguous. The M-step re-estimates θ and π from the posteriors plus
 * Dirichlet pseudo-counts. Both steps run in one pass over the items,
 * split into ranges across threads, each with its own accumulators that
 * are merged afterwards.
 */

#include "config.h"

#include "kp-consolidate.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

G_DEFINE_QUARK (kp-consolidate-error-quark, kp_consolidate_error)

#define NO_CLASS G_MAXUINT32

/* Below this many votes, one thread does the work: starting threads
 * costs more than it saves. */
#define MIN_VOTES_PER_THREAD 20000

/* Never take the log of zero (possible only with zero pseudo-counts). */
#define MIN_PROBABILITY 1e-300

/* ------------------------------------------------------------------ */
/* KpVotes                                                            */
/* ------------------------------------------------------------------ */

typedef struct
{
  GHashTable *index;    /* name -> GUINT_TO_POINTER (index + 1) */
  GPtrArray  *names;    /* index -> name (owned) or NULL */
  guint       size;
} NameTable;

struct _KpVotes
{
  NameTable items;
  NameTable workers;
  NameTable classes;

  guint32  *vote_item;
  guint32  *vote_worker;
  guint32  *vote_class;
  gsize     n_votes;
  gsize     capacity;

  guint32  *known;      /* [n_known]: item's known class or NO_CLASS; NULL when none */
  guint     n_known;
};

static void
name_table_init (NameTable *table)
{
  table->index = g_hash_table_new (g_str_hash, g_str_equal);
  table->names = g_ptr_array_new_with_free_func (g_free);
  table->size = 0;
}

static void
name_table_clear (NameTable *table)
{
  g_clear_pointer (&table->index, g_hash_table_unref);
  g_clear_pointer (&table->names, g_ptr_array_unref);
}

static guint
name_table_intern (NameTable  *table,
                   const char *name)
{
  gpointer value;
  char *copy;
  guint index;

  if (g_hash_table_lookup_extended (table->index, name, NULL, &value))
    return GPOINTER_TO_UINT (value) - 1;

  g_return_val_if_fail (table->size < G_MAXUINT - 1, G_MAXUINT);

  index = table->size++;
  copy = g_strdup (name);
  g_ptr_array_set_size (table->names, table->size);
  g_ptr_array_index (table->names, index) = copy;
  /* The key is the copy the array owns. */
  g_hash_table_insert (table->index, copy, GUINT_TO_POINTER (index + 1));

  return index;
}

static guint
name_table_lookup (const NameTable *table,
                   const char      *name)
{
  gpointer value;

  if (name != NULL && g_hash_table_lookup_extended (table->index, name, NULL, &value))
    return GPOINTER_TO_UINT (value) - 1;

  return G_MAXUINT;
}

static const char *
name_table_get (const NameTable *table,
                guint            index)
{
  if (index >= table->names->len)
    return NULL;

  return g_ptr_array_index (table->names, index);
}

static void
name_table_grow (NameTable *table,
                 guint      size)
{
  if (size > table->size)
    table->size = size;
}

KpVotes *
kp_votes_new (void)
{
  KpVotes *votes = g_new0 (KpVotes, 1);

  name_table_init (&votes->items);
  name_table_init (&votes->workers);
  name_table_init (&votes->classes);

  return votes;
}

void
kp_votes_free (KpVotes *votes)
{
  if (votes == NULL)
    return;

  name_table_clear (&votes->items);
  name_table_clear (&votes->workers);
  name_table_clear (&votes->classes);
  g_free (votes->vote_item);
  g_free (votes->vote_worker);
  g_free (votes->vote_class);
  g_free (votes->known);
  g_free (votes);
}

static void
votes_set_capacity (KpVotes *votes,
                    gsize    capacity)
{
  votes->vote_item = g_renew (guint32, votes->vote_item, capacity);
  votes->vote_worker = g_renew (guint32, votes->vote_worker, capacity);
  votes->vote_class = g_renew (guint32, votes->vote_class, capacity);
  votes->capacity = capacity;
}

void
kp_votes_reserve (KpVotes *votes,
                  guint    n_items,
                  guint    n_workers,
                  guint    n_classes,
                  gsize    n_votes)
{
  g_return_if_fail (votes != NULL);

  name_table_grow (&votes->items, n_items);
  name_table_grow (&votes->workers, n_workers);
  name_table_grow (&votes->classes, n_classes);

  if (n_votes > votes->capacity)
    votes_set_capacity (votes, n_votes);
}

guint
kp_votes_intern_item (KpVotes    *votes,
                      const char *name)
{
  g_return_val_if_fail (votes != NULL, G_MAXUINT);
  g_return_val_if_fail (name != NULL, G_MAXUINT);

  return name_table_intern (&votes->items, name);
}

guint
kp_votes_intern_worker (KpVotes    *votes,
                        const char *name)
{
  g_return_val_if_fail (votes != NULL, G_MAXUINT);
  g_return_val_if_fail (name != NULL, G_MAXUINT);

  return name_table_intern (&votes->workers, name);
}

guint
kp_votes_intern_class (KpVotes    *votes,
                       const char *name)
{
  g_return_val_if_fail (votes != NULL, G_MAXUINT);
  g_return_val_if_fail (name != NULL, G_MAXUINT);

  return name_table_intern (&votes->classes, name);
}

guint
kp_votes_lookup_item (const KpVotes *votes,
                      const char    *name)
{
  g_return_val_if_fail (votes != NULL, G_MAXUINT);

  return name_table_lookup (&votes->items, name);
}

guint
kp_votes_lookup_worker (const KpVotes *votes,
                        const char    *name)
{
  g_return_val_if_fail (votes != NULL, G_MAXUINT);

  return name_table_lookup (&votes->workers, name);
}

guint
kp_votes_lookup_class (const KpVotes *votes,
                       const char    *name)
{
  g_return_val_if_fail (votes != NULL, G_MAXUINT);

  return name_table_lookup (&votes->classes, name);
}

const char *
kp_votes_get_item_name (const KpVotes *votes,
                        guint          item)
{
  g_return_val_if_fail (votes != NULL, NULL);

  return name_table_get (&votes->items, item);
}

const char *
kp_votes_get_worker_name (const KpVotes *votes,
                          guint          worker)
{
  g_return_val_if_fail (votes != NULL, NULL);

  return name_table_get (&votes->workers, worker);
}

const char *
kp_votes_get_class_name (const KpVotes *votes,
                         guint          klass)
{
  g_return_val_if_fail (votes != NULL, NULL);

  return name_table_get (&votes->classes, klass);
}

void
kp_votes_add (KpVotes *votes,
              guint    item,
              guint    worker,
              guint    klass)
{
  g_return_if_fail (votes != NULL);
  g_return_if_fail (item < G_MAXUINT && worker < G_MAXUINT && klass < G_MAXUINT);

  if (votes->n_votes == votes->capacity)
    votes_set_capacity (votes, MAX (64, votes->capacity * 2));

  votes->vote_item[votes->n_votes] = item;
  votes->vote_worker[votes->n_votes] = worker;
  votes->vote_class[votes->n_votes] = klass;
  votes->n_votes++;

  name_table_grow (&votes->items, item + 1);
  name_table_grow (&votes->workers, worker + 1);
  name_table_grow (&votes->classes, klass + 1);
}

void
kp_votes_set_known (KpVotes *votes,
                    guint    item,
                    guint    klass)
{
  g_return_if_fail (votes != NULL);
  g_return_if_fail (item < G_MAXUINT);

  if (klass == G_MAXUINT && item >= votes->n_known)
    return;

  if (item >= votes->n_known)
    {
      guint n_known = MAX (item + 1, votes->n_known * 2);

      votes->known = g_renew (guint32, votes->known, n_known);
      for (guint i = votes->n_known; i < n_known; i++)
        votes->known[i] = NO_CLASS;
      votes->n_known = n_known;
    }

  votes->known[item] = klass == G_MAXUINT ? NO_CLASS : klass;

  name_table_grow (&votes->items, item + 1);
  if (klass != G_MAXUINT)
    name_table_grow (&votes->classes, klass + 1);
}

guint
kp_votes_get_n_items (const KpVotes *votes)
{
  g_return_val_if_fail (votes != NULL, 0);

  return votes->items.size;
}

guint
kp_votes_get_n_workers (const KpVotes *votes)
{
  g_return_val_if_fail (votes != NULL, 0);

  return votes->workers.size;
}

guint
kp_votes_get_n_classes (const KpVotes *votes)
{
  g_return_val_if_fail (votes != NULL, 0);

  return votes->classes.size;
}

/* ------------------------------------------------------------------ */
/* The layout by item                                                 */
/* ------------------------------------------------------------------ */

typedef struct
{
  guint    n_items;
  guint    n_workers;
  guint    n_classes;
  gsize    n_votes;
  gsize   *start;       /* [n_items + 1]: item i's votes are start[i] .. start[i + 1] - 1 */
  guint32 *worker;      /* [n_votes] */
  guint32 *klass;       /* [n_votes] */
  guint32 *known;       /* [n_items]: the known class or NO_CLASS; NULL when none is known */
} Csr;

static void
csr_free (Csr *csr)
{
  if (csr == NULL)
    return;

  g_free (csr->start);
  g_free (csr->worker);
  g_free (csr->klass);
  g_free (csr->known);
  g_free (csr);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Csr, csr_free)

/* Keeps, for each (item, worker), only the last vote, at the position of
 * the first one; items keep their order. Linear: a per-worker stamp says
 * whether the worker has voted on the current item already, and where. */
static void
csr_dedupe (Csr *csr)
{
  g_autofree guint32 *stamp = g_new0 (guint32, MAX (csr->n_workers, 1));
  g_autofree gsize *position = g_new (gsize, MAX (csr->n_workers, 1));
  gsize out = 0;

  for (guint i = 0; i < csr->n_items; i++)
    {
      gsize begin = csr->start[i];
      gsize end = csr->start[i + 1];

      csr->start[i] = out;

      for (gsize v = begin; v < end; v++)
        {
          guint32 w = csr->worker[v];

          if (stamp[w] == i + 1)
            {
              csr->klass[position[w]] = csr->klass[v];
              continue;
            }

          stamp[w] = i + 1;
          position[w] = out;
          csr->worker[out] = w;
          csr->klass[out] = csr->klass[v];
          out++;
        }
    }

  csr->start[csr->n_items] = out;
  csr->n_votes = out;
}

/* item_of, worker_of, class_of: the votes in the order added; a stable
 * counting sort by item keeps that order within each item. */
static Csr *
csr_build (guint          n_items,
           guint          n_workers,
           guint          n_classes,
           const guint32 *item_of,
           const guint32 *worker_of,
           const guint32 *class_of,
           gsize          n_votes)
{
  Csr *csr = g_new0 (Csr, 1);
  g_autofree gsize *cursor = NULL;

  csr->n_items = n_items;
  csr->n_workers = n_workers;
  csr->n_classes = n_classes;
  csr->n_votes = n_votes;
  csr->start = g_new0 (gsize, (gsize) n_items + 1);
  csr->worker = g_new (guint32, MAX (n_votes, 1));
  csr->klass = g_new (guint32, MAX (n_votes, 1));

  for (gsize v = 0; v < n_votes; v++)
    csr->start[item_of[v] + 1]++;
  for (guint i = 0; i < n_items; i++)
    csr->start[i + 1] += csr->start[i];

  cursor = g_memdup2 (csr->start, sizeof (gsize) * ((gsize) n_items + 1));
  for (gsize v = 0; v < n_votes; v++)
    {
      gsize at = cursor[item_of[v]]++;

      csr->worker[at] = worker_of[v];
      csr->klass[at] = class_of != NULL ? class_of[v] : 0;
    }

  csr_dedupe (csr);

  return csr;
}

static Csr *
csr_from_votes (const KpVotes *votes)
{
  Csr *csr = csr_build (votes->items.size, votes->workers.size, votes->classes.size,
                        votes->vote_item, votes->vote_worker, votes->vote_class,
                        votes->n_votes);

  for (guint i = 0; i < votes->n_known && i < csr->n_items; i++)
    {
      if (votes->known[i] == NO_CLASS)
        continue;

      if (csr->known == NULL)
        {
          csr->known = g_new (guint32, MAX (csr->n_items, 1));
          for (guint j = 0; j < csr->n_items; j++)
            csr->known[j] = NO_CLASS;
        }
      csr->known[i] = votes->known[i];
    }

  return csr;
}

static inline guint32
csr_known (const Csr *csr,
           guint      item)
{
  return csr->known != NULL ? csr->known[item] : NO_CLASS;
}

/* Posterior rows of known items: all on the known class. */
static void
clamp_known (const Csr *csr,
             double    *posteriors)
{
  guint K = csr->n_classes;

  if (csr->known == NULL)
    return;

  for (guint i = 0; i < csr->n_items; i++)
    {
      double *row = posteriors + (gsize) i * K;

      if (csr->known[i] == NO_CLASS)
        continue;

      for (guint k = 0; k < K; k++)
        row[k] = k == csr->known[i] ? 1.0 : 0.0;
    }
}

/* Distinct (item, worker) pairs: a second vote replaces the first, so it
 * does not count. Linear in the votes added. */
gsize
kp_votes_get_n_votes (const KpVotes *votes)
{
  g_autoptr(Csr) csr = NULL;

  g_return_val_if_fail (votes != NULL, 0);

  if (votes->n_votes < 2)
    return votes->n_votes;

  csr = csr_from_votes (votes);

  return csr->n_votes;
}

/* ------------------------------------------------------------------ */
/* Methods and options                                                */
/* ------------------------------------------------------------------ */

gboolean
kp_consensus_method_from_string (const char        *name,
                                 KpConsensusMethod *method)
{
  static const struct {
    const char *name;
    KpConsensusMethod method;
  } names[] = {
    { "majority", KP_CONSENSUS_MAJORITY },
    { "mv", KP_CONSENSUS_MAJORITY },
    { "majority-vote", KP_CONSENSUS_MAJORITY },
    { "dawid-skene", KP_CONSENSUS_DAWID_SKENE },
    { "ds", KP_CONSENSUS_DAWID_SKENE },
    { "one-coin", KP_CONSENSUS_ONE_COIN },
  };

  g_return_val_if_fail (method != NULL, FALSE);

  if (name == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      if (g_ascii_strcasecmp (name, names[i].name) == 0)
        {
          *method = names[i].method;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
kp_consensus_method_to_string (KpConsensusMethod method)
{
  switch (method)
    {
    case KP_CONSENSUS_MAJORITY:
      return "majority";
    case KP_CONSENSUS_DAWID_SKENE:
      return "dawid-skene";
    case KP_CONSENSUS_ONE_COIN:
      return "one-coin";
    default:
      return NULL;
    }
}

void
kp_consensus_options_init (KpConsensusOptions *options,
                           KpConsensusMethod   method)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->method = method;
  options->max_iterations = 100;
  options->tolerance = 1e-4;
  options->prior_diagonal = 2.0;
  options->prior_off_diagonal = 1.0;
  options->prior_class = 1.0;
  options->warm_start = TRUE;
  options->n_threads = 0;
}

static gboolean
check_options (const KpConsensusOptions  *options,
               GError                   **error)
{
  if (kp_consensus_method_to_string (options->method) == NULL)
    {
      g_set_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID,
                   _("Unknown consensus method %d"), (int) options->method);
      return FALSE;
    }

  if (!isfinite (options->tolerance) || options->tolerance < 0)
    {
      g_set_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID,
                   _("The tolerance must be a number of zero or more"));
      return FALSE;
    }

  if (!isfinite (options->prior_diagonal) || options->prior_diagonal < 0 ||
      !isfinite (options->prior_off_diagonal) || options->prior_off_diagonal < 0 ||
      !isfinite (options->prior_class) || options->prior_class < 0)
    {
      g_set_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID,
                   _("Prior pseudo-counts must be numbers of zero or more"));
      return FALSE;
    }

  return TRUE;
}

static gboolean
set_cancelled_error (GCancellable  *cancellable,
                     GError       **error)
{
  if (!g_cancellable_is_cancelled (cancellable))
    return FALSE;

  g_set_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_CANCELLED,
               _("The consolidation was cancelled"));
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Results                                                            */
/* ------------------------------------------------------------------ */

void
kp_consensus_free (KpConsensus *consensus)
{
  if (consensus == NULL)
    return;

  g_free (consensus->labels);
  g_free (consensus->confidence);
  g_free (consensus->posteriors);
  g_free (consensus->worker_accuracy);
  g_free (consensus->confusion);
  g_free (consensus->class_priors);
  g_free (consensus);
}

static KpConsensus *
consensus_new (const Csr         *csr,
               KpConsensusMethod  method)
{
  KpConsensus *result = g_new0 (KpConsensus, 1);
  gsize n_items = csr->n_items;
  gsize n_classes = csr->n_classes;

  result->method = method;
  result->n_items = csr->n_items;
  result->n_workers = csr->n_workers;
  result->n_classes = csr->n_classes;
  result->labels = g_new (guint, MAX (n_items, 1));
  result->confidence = g_new0 (double, MAX (n_items, 1));
  result->posteriors = g_new0 (double, MAX (n_items * n_classes, 1));
  result->worker_accuracy = g_new0 (double, MAX (csr->n_workers, 1));
  result->class_priors = g_new0 (double, MAX (n_classes, 1));
  if (method != KP_CONSENSUS_MAJORITY)
    result->confusion = g_new0 (double, MAX ((gsize) csr->n_workers * n_classes * n_classes, 1));
  result->converged = TRUE;

  return result;
}

/* Labels and confidences from the posteriors; items without votes get the
 * class priors as posteriors, no label and confidence 0. */
static void
consensus_finish_labels (KpConsensus *result,
                         const Csr   *csr)
{
  guint K = csr->n_classes;

  for (guint i = 0; i < csr->n_items; i++)
    {
      double *row = result->posteriors + (gsize) i * K;
      guint32 known = csr_known (csr, i);
      guint best = 0;

      if (known != NO_CLASS)
        {
          for (guint k = 0; k < K; k++)
            row[k] = k == known ? 1.0 : 0.0;
          result->labels[i] = known;
          result->confidence[i] = 1.0;
          continue;
        }

      if (csr->start[i] == csr->start[i + 1])
        {
          if (K > 0)
            memcpy (row, result->class_priors, sizeof (double) * K);
          result->labels[i] = G_MAXUINT;
          result->confidence[i] = 0;
          continue;
        }

      /* Strictly greater: ties go to the lower class index. */
      for (guint k = 1; k < K; k++)
        if (row[k] > row[best])
          best = k;

      result->labels[i] = best;
      result->confidence[i] = row[best];
    }
}

/* ------------------------------------------------------------------ */
/* Majority vote                                                      */
/* ------------------------------------------------------------------ */

/* Fills posteriors with each item's vote shares (zero rows for items
 * without votes) and class_priors with the share of all votes. */
static void
vote_shares (const Csr *csr,
             double    *posteriors,
             double    *class_priors)
{
  guint K = csr->n_classes;

  if (class_priors != NULL && K > 0)
    memset (class_priors, 0, sizeof (double) * K);

  for (guint i = 0; i < csr->n_items; i++)
    {
      double *row = posteriors + (gsize) i * K;
      gsize begin = csr->start[i];
      gsize end = csr->start[i + 1];

      if (K > 0)
        memset (row, 0, sizeof (double) * K);
      if (begin == end)
        continue;

      for (gsize v = begin; v < end; v++)
        row[csr->klass[v]] += 1.0;
      for (guint k = 0; k < K; k++)
        {
          if (class_priors != NULL)
            class_priors[k] += row[k];
          row[k] /= (double) (end - begin);
        }
    }

  if (class_priors != NULL && csr->n_votes > 0)
    for (guint k = 0; k < K; k++)
      class_priors[k] /= (double) csr->n_votes;
}

/* worker_accuracy: the share of each worker's votes that agree with the
 * consensus labels (0 for a worker without votes). */
static void
agreement_with_labels (const Csr   *csr,
                       const guint *labels,
                       double      *worker_accuracy)
{
  g_autofree guint32 *n_votes = g_new0 (guint32, MAX (csr->n_workers, 1));

  memset (worker_accuracy, 0, sizeof (double) * csr->n_workers);

  for (guint i = 0; i < csr->n_items; i++)
    for (gsize v = csr->start[i]; v < csr->start[i + 1]; v++)
      {
        n_votes[csr->worker[v]]++;
        if (csr->klass[v] == labels[i])
          worker_accuracy[csr->worker[v]] += 1.0;
      }

  for (guint w = 0; w < csr->n_workers; w++)
    if (n_votes[w] > 0)
      worker_accuracy[w] /= n_votes[w];
}

static KpConsensus *
majority_vote (const Csr *csr)
{
  KpConsensus *result = consensus_new (csr, KP_CONSENSUS_MAJORITY);

  vote_shares (csr, result->posteriors, result->class_priors);
  clamp_known (csr, result->posteriors);
  consensus_finish_labels (result, csr);
  agreement_with_labels (csr, result->labels, result->worker_accuracy);

  return result;
}

/* ------------------------------------------------------------------ */
/* Dawid–Skene                                                        */
/* ------------------------------------------------------------------ */

typedef struct
{
  const Csr    *csr;
  guint         begin;          /* items begin .. end - 1 */
  guint         end;
  gboolean      e_step;         /* recompute the posteriors first */
  const double *log_table;      /* [worker][given][true]: log θ_w[true][given] */
  const double *log_prior;      /* [true] */
  double       *posteriors;     /* [item][true], shared; each chunk writes its own rows */
  double       *counts;         /* [worker][given][true]: Σ posteriors, this chunk's */
  double       *class_counts;   /* [true], this chunk's */
  double       *score;          /* [true]: scratch of one item */
  double        log_likelihood;
  double        delta;          /* largest change of a posterior */
} Chunk;

static void
chunk_run (Chunk *chunk)
{
  const Csr *csr = chunk->csr;
  guint K = csr->n_classes;
  gsize table_size = (gsize) csr->n_workers * K * K;
  double *score = chunk->score;

  memset (chunk->counts, 0, sizeof (double) * table_size);
  memset (chunk->class_counts, 0, sizeof (double) * K);
  chunk->log_likelihood = 0;
  chunk->delta = 0;

  for (guint i = chunk->begin; i < chunk->end; i++)
    {
      double *row = chunk->posteriors + (gsize) i * K;
      gsize begin = csr->start[i];
      gsize end = csr->start[i + 1];

      if (begin == end)
        continue;

      if (chunk->e_step)
        {
          double top = -INFINITY;
          double sum = 0;

          memcpy (score, chunk->log_prior, sizeof (double) * K);
          for (gsize v = begin; v < end; v++)
            {
              const double *log_theta =
                chunk->log_table + ((gsize) csr->worker[v] * K + csr->klass[v]) * K;

              for (guint k = 0; k < K; k++)
                score[k] += log_theta[k];
            }

          if (csr->known != NULL && csr->known[i] != NO_CLASS)
            {
              /* The posterior stays on the known class; the likelihood
               * is the joint one of the class and the votes. */
              chunk->log_likelihood += score[csr->known[i]];
            }
          else
            {
              for (guint k = 0; k < K; k++)
                top = MAX (top, score[k]);
              for (guint k = 0; k < K; k++)
                {
                  score[k] = exp (score[k] - top);
                  sum += score[k];
                }
              chunk->log_likelihood += top + log (sum);

              for (guint k = 0; k < K; k++)
                {
                  double p = score[k] / sum;

                  chunk->delta = MAX (chunk->delta, fabs (p - row[k]));
                  row[k] = p;
                }
            }
        }

      for (guint k = 0; k < K; k++)
        chunk->class_counts[k] += row[k];

      for (gsize v = begin; v < end; v++)
        {
          double *count = chunk->counts + ((gsize) csr->worker[v] * K + csr->klass[v]) * K;

          for (guint k = 0; k < K; k++)
            count[k] += row[k];
        }
    }
}

static gpointer
chunk_thread (gpointer data)
{
  chunk_run (data);
  return NULL;
}

typedef struct
{
  const Csr                *csr;
  const KpConsensusOptions *options;
  guint                     n_chunks;
  Chunk                    *chunks;
  double                   *log_table;     /* [worker][given][true] */
  double                   *log_prior;     /* [true] */
  double                   *theta;         /* [worker][true][given] */
  double                   *priors;        /* [true] */
  double                   *posteriors;    /* [item][true] */
} Em;

static void
em_init (Em                       *em,
         const Csr                *csr,
         const KpConsensusOptions *options,
         double                   *posteriors,
         double                   *theta,
         double                   *priors)
{
  guint K = csr->n_classes;
  gsize table_size = (gsize) csr->n_workers * K * K;
  guint n_threads = options->n_threads != 0 ? options->n_threads : g_get_num_processors ();
  guint n_chunks;

  n_chunks = MAX (1, MIN (n_threads, csr->n_votes / MIN_VOTES_PER_THREAD));
  n_chunks = MIN (n_chunks, MAX (csr->n_items, 1));
  /* Each thread zeroes and merges a whole table of counts per pass: not
   * worth it when the table outweighs the votes (many workers, few
   * votes each). */
  if (table_size > csr->n_votes * K)
    n_chunks = 1;

  em->csr = csr;
  em->options = options;
  em->n_chunks = n_chunks;
  em->chunks = g_new0 (Chunk, n_chunks);
  em->log_table = g_new (double, MAX (table_size, 1));
  em->log_prior = g_new (double, K);
  em->theta = theta;
  em->priors = priors;
  em->posteriors = posteriors;

  /* Ranges of items with about the same number of votes each. */
  for (guint c = 0, item = 0; c < n_chunks; c++)
    {
      Chunk *chunk = &em->chunks[c];
      gsize target = csr->n_votes * (c + 1) / n_chunks;

      chunk->csr = csr;
      chunk->begin = item;
      while (item < csr->n_items && (c == n_chunks - 1 || csr->start[item] < target))
        item++;
      chunk->end = item;
      chunk->log_table = em->log_table;
      chunk->log_prior = em->log_prior;
      chunk->posteriors = posteriors;
      chunk->counts = g_new (double, MAX (table_size, 1));
      chunk->class_counts = g_new (double, K);
      chunk->score = g_new (double, K);
    }
}

static void
em_clear (Em *em)
{
  for (guint c = 0; c < em->n_chunks; c++)
    {
      g_free (em->chunks[c].counts);
      g_free (em->chunks[c].class_counts);
      g_free (em->chunks[c].score);
    }
  g_clear_pointer (&em->chunks, g_free);
  g_clear_pointer (&em->log_table, g_free);
  g_clear_pointer (&em->log_prior, g_free);
}

/* One pass over the items: E-step (when e_step) then the sufficient
 * statistics of the M-step, in n_chunks threads. */
static void
em_pass (Em       *em,
         gboolean  e_step)
{
  g_autofree GThread **threads = g_new0 (GThread *, em->n_chunks);

  for (guint c = 0; c < em->n_chunks; c++)
    em->chunks[c].e_step = e_step;

  /* A chunk whose thread cannot start runs here after chunk 0. */
  for (guint c = 1; c < em->n_chunks; c++)
    threads[c] = g_thread_try_new ("kp-consensus", chunk_thread, &em->chunks[c], NULL);
  chunk_run (&em->chunks[0]);
  for (guint c = 1; c < em->n_chunks; c++)
    {
      if (threads[c] != NULL)
        g_thread_join (threads[c]);
      else
        chunk_run (&em->chunks[c]);
    }

  /* Merge into chunk 0's accumulators. */
  for (guint c = 1; c < em->n_chunks; c++)
    {
      gsize table_size = (gsize) em->csr->n_workers * em->csr->n_classes * em->csr->n_classes;

      for (gsize j = 0; j < table_size; j++)
        em->chunks[0].counts[j] += em->chunks[c].counts[j];
      for (guint k = 0; k < em->csr->n_classes; k++)
        em->chunks[0].class_counts[k] += em->chunks[c].class_counts[k];
    }
}

static double
em_log_likelihood (const Em *em)
{
  double sum = 0;

  for (guint c = 0; c < em->n_chunks; c++)
    sum += em->chunks[c].log_likelihood;

  return sum;
}

static double
em_delta (const Em *em)
{
  double delta = 0;

  for (guint c = 0; c < em->n_chunks; c++)
    delta = MAX (delta, em->chunks[c].delta);

  return delta;
}

/* θ and π into the log tables the E-step reads. */
static void
em_update_log_tables (Em *em)
{
  guint K = em->csr->n_classes;

  for (guint w = 0; w < em->csr->n_workers; w++)
    {
      const double *theta = em->theta + (gsize) w * K * K;
      double *table = em->log_table + (gsize) w * K * K;

      for (guint k = 0; k < K; k++)
        for (guint j = 0; j < K; j++)
          table[j * K + k] = log (MAX (theta[k * K + j], MIN_PROBABILITY));
    }

  for (guint k = 0; k < K; k++)
    em->log_prior[k] = log (MAX (em->priors[k], MIN_PROBABILITY));
}

/* The M-step from the merged accumulators of the last pass. */
static void
em_m_step (Em *em)
{
  const KpConsensusOptions *options = em->options;
  const double *counts = em->chunks[0].counts;
  const double *class_counts = em->chunks[0].class_counts;
  guint K = em->csr->n_classes;
  double total = 0;

  for (guint k = 0; k < K; k++)
    total += class_counts[k] + options->prior_class;
  for (guint k = 0; k < K; k++)
    em->priors[k] = total > 0 ? (class_counts[k] + options->prior_class) / total : 1.0 / K;

  for (guint w = 0; w < em->csr->n_workers; w++)
    {
      const double *count = counts + (gsize) w * K * K;      /* [given][true] */
      double *theta = em->theta + (gsize) w * K * K;         /* [true][given] */

      if (options->method == KP_CONSENSUS_ONE_COIN)
        {
          double right = options->prior_diagonal;
          double all = options->prior_diagonal + options->prior_off_diagonal;
          double accuracy;

          for (guint j = 0; j < K; j++)
            for (guint k = 0; k < K; k++)
              {
                all += count[j * K + k];
                if (j == k)
                  right += count[j * K + k];
              }

          accuracy = all > 0 ? right / all : 1.0 / K;
          for (guint k = 0; k < K; k++)
            for (guint j = 0; j < K; j++)
              theta[k * K + j] = k == j ? accuracy : (1.0 - accuracy) / (K - 1);
          continue;
        }

      for (guint k = 0; k < K; k++)
        {
          double row_total = 0;

          for (guint j = 0; j < K; j++)
            {
              double pseudo = j == k ? options->prior_diagonal : options->prior_off_diagonal;

              theta[k * K + j] = count[j * K + k] + pseudo;
              row_total += theta[k * K + j];
            }

          for (guint j = 0; j < K; j++)
            theta[k * K + j] = row_total > 0 ? theta[k * K + j] / row_total : 1.0 / K;
        }
    }
}

/* The cold start: every worker right with probability 0.7, errors spread
 * evenly, classes equally likely. */
static void
em_cold_start (Em *em)
{
  guint K = em->csr->n_classes;
  const double accuracy = 0.7;

  for (guint w = 0; w < em->csr->n_workers; w++)
    {
      double *theta = em->theta + (gsize) w * K * K;

      for (guint k = 0; k < K; k++)
        for (guint j = 0; j < K; j++)
          theta[k * K + j] = k == j ? accuracy : (1.0 - accuracy) / (K - 1);
    }

  for (guint k = 0; k < K; k++)
    em->priors[k] = 1.0 / K;

  /* Posteriors to compare the first E-step with. */
  for (gsize j = 0; j < (gsize) em->csr->n_items * K; j++)
    em->posteriors[j] = 1.0 / K;
  clamp_known (em->csr, em->posteriors);
}

static KpConsensus *
dawid_skene (const Csr                 *csr,
             const KpConsensusOptions  *options,
             GCancellable              *cancellable,
             GError                   **error)
{
  g_autoptr(KpConsensus) result = consensus_new (csr, options->method);
  guint K = csr->n_classes;
  Em em;

  /* One class: nothing to estimate. */
  if (K < 2)
    {
      for (gsize i = 0; i < (gsize) csr->n_items * K; i++)
        result->posteriors[i] = 1.0;
      for (gsize w = 0; w < (gsize) csr->n_workers * K; w++)
        {
          result->confusion[w] = 1.0;
          result->worker_accuracy[w] = 1.0;
        }
      if (K == 1)
        result->class_priors[0] = 1.0;
      consensus_finish_labels (result, csr);
      return g_steal_pointer (&result);
    }

  em_init (&em, csr, options, result->posteriors, result->confusion, result->class_priors);

  if (options->warm_start)
    {
      vote_shares (csr, result->posteriors, NULL);
      clamp_known (csr, result->posteriors);
      em_pass (&em, FALSE);
      em_m_step (&em);
    }
  else
    {
      em_cold_start (&em);
    }

  result->converged = FALSE;
  for (guint iteration = 0; iteration < options->max_iterations; iteration++)
    {
      if (set_cancelled_error (cancellable, error))
        {
          em_clear (&em);
          return NULL;
        }

      em_update_log_tables (&em);
      em_pass (&em, TRUE);
      result->iterations = iteration + 1;
      result->log_likelihood = em_log_likelihood (&em);

      if (em_delta (&em) <= options->tolerance)
        {
          result->converged = TRUE;
          break;
        }

      /* The last iteration leaves the model that gave the posteriors. */
      if (iteration + 1 < options->max_iterations)
        em_m_step (&em);
    }

  em_clear (&em);

  consensus_finish_labels (result, csr);

  for (guint w = 0; w < csr->n_workers; w++)
    {
      const double *theta = result->confusion + (gsize) w * K * K;
      double accuracy = 0;

      for (guint k = 0; k < K; k++)
        accuracy += result->class_priors[k] * theta[k * K + k];
      result->worker_accuracy[w] = accuracy;
    }

  return g_steal_pointer (&result);
}

static KpConsensus *
consensus_compute_csr (const Csr                 *csr,
                       const KpConsensusOptions  *options,
                       GCancellable              *cancellable,
                       GError                   **error)
{
  if (set_cancelled_error (cancellable, error))
    return NULL;

  if (options->method == KP_CONSENSUS_MAJORITY)
    return majority_vote (csr);

  return dawid_skene (csr, options, cancellable, error);
}

KpConsensus *
kp_consensus_compute (const KpVotes             *votes,
                      const KpConsensusOptions  *options,
                      GCancellable              *cancellable,
                      GError                   **error)
{
  KpConsensusOptions defaults;
  g_autoptr(Csr) csr = NULL;

  g_return_val_if_fail (votes != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      kp_consensus_options_init (&defaults, KP_CONSENSUS_DAWID_SKENE);
      options = &defaults;
    }

  if (!check_options (options, error))
    return NULL;

  csr = csr_from_votes (votes);

  return consensus_compute_csr (csr, options, cancellable, error);
}

/* ------------------------------------------------------------------ */
/* Multi-label                                                        */
/* ------------------------------------------------------------------ */

struct _KpMultiVotes
{
  KpVotes *names;

  /* One answer per entry; its classes are classes[class_start[a] ..
   * class_start[a + 1] - 1]. */
  GArray  *item;          /* of guint32 */
  GArray  *worker;        /* of guint32 */
  GArray  *class_start;   /* of gsize */
  GArray  *classes;       /* of guint32 */
};

KpMultiVotes *
kp_multi_votes_new (void)
{
  KpMultiVotes *votes = g_new0 (KpMultiVotes, 1);
  gsize zero = 0;

  votes->names = kp_votes_new ();
  votes->item = g_array_new (FALSE, FALSE, sizeof (guint32));
  votes->worker = g_array_new (FALSE, FALSE, sizeof (guint32));
  votes->class_start = g_array_new (FALSE, FALSE, sizeof (gsize));
  votes->classes = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_array_append_val (votes->class_start, zero);

  return votes;
}

void
kp_multi_votes_free (KpMultiVotes *votes)
{
  if (votes == NULL)
    return;

  kp_votes_free (votes->names);
  g_array_unref (votes->item);
  g_array_unref (votes->worker);
  g_array_unref (votes->class_start);
  g_array_unref (votes->classes);
  g_free (votes);
}

KpVotes *
kp_multi_votes_get_names (KpMultiVotes *votes)
{
  g_return_val_if_fail (votes != NULL, NULL);

  return votes->names;
}

void
kp_multi_votes_add (KpMultiVotes *votes,
                    guint         item,
                    guint         worker,
                    const guint  *classes,
                    guint         n_classes)
{
  guint32 item32 = item;
  guint32 worker32 = worker;
  guint max_class = 0;
  gsize end;

  g_return_if_fail (votes != NULL);
  g_return_if_fail (classes != NULL || n_classes == 0);
  g_return_if_fail (item < G_MAXUINT && worker < G_MAXUINT);

  for (guint c = 0; c < n_classes; c++)
    {
      guint32 klass = classes[c];

      g_return_if_fail (classes[c] < G_MAXUINT);
      g_array_append_val (votes->classes, klass);
      max_class = MAX (max_class, classes[c] + 1);
    }

  g_array_append_val (votes->item, item32);
  g_array_append_val (votes->worker, worker32);
  end = votes->classes->len;
  g_array_append_val (votes->class_start, end);

  kp_votes_reserve (votes->names, item + 1, worker + 1, max_class, 0);
}

void
kp_multi_consensus_free (KpMultiConsensus *consensus)
{
  if (consensus == NULL)
    return;

  g_free (consensus->present);
  g_free (consensus->probability);
  g_free (consensus->worker_accuracy);
  g_free (consensus);
}

KpMultiConsensus *
kp_multi_consensus_compute (const KpMultiVotes        *votes,
                            const KpConsensusOptions  *options,
                            GCancellable              *cancellable,
                            GError                   **error)
{
  g_autoptr(KpMultiConsensus) result = NULL;
  g_autoptr(Csr) csr = NULL;
  g_autofree guint32 *answer_of = NULL;
  g_autofree guint32 *sequence = NULL;
  KpConsensusOptions defaults;
  KpConsensusOptions binary;
  guint n_items, n_workers, n_classes;
  gsize n_answers;

  g_return_val_if_fail (votes != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      kp_consensus_options_init (&defaults, KP_CONSENSUS_DAWID_SKENE);
      options = &defaults;
    }

  if (!check_options (options, error))
    return NULL;

  n_items = kp_votes_get_n_items (votes->names);
  n_workers = kp_votes_get_n_workers (votes->names);
  n_classes = kp_votes_get_n_classes (votes->names);
  n_answers = votes->item->len;

  result = g_new0 (KpMultiConsensus, 1);
  result->n_items = n_items;
  result->n_classes = n_classes;
  result->n_workers = n_workers;
  result->present = g_new0 (guint8, MAX ((gsize) n_items * n_classes, 1));
  result->probability = g_new0 (double, MAX ((gsize) n_items * n_classes, 1));
  result->worker_accuracy = g_new0 (double, MAX (n_workers, 1));

  /* The (item, worker) pairs, each answer's latest set: the layout's
   * class array carries the answer's index, replaced per class below. */
  sequence = g_new (guint32, MAX (n_answers, 1));
  for (gsize a = 0; a < n_answers; a++)
    sequence[a] = a;
  csr = csr_build (n_items, n_workers, 2,
                   (const guint32 *) (gpointer) votes->item->data,
                   (const guint32 *) (gpointer) votes->worker->data,
                   sequence, n_answers);
  answer_of = g_steal_pointer (&csr->klass);
  csr->klass = g_new (guint32, MAX (csr->n_votes, 1));

  binary = *options;

  for (guint c = 0; c < n_classes; c++)
    {
      g_autoptr(KpConsensus) one = NULL;

      for (gsize v = 0; v < csr->n_votes; v++)
        {
          guint32 a = answer_of[v];
          gsize begin = g_array_index (votes->class_start, gsize, a);
          gsize end = g_array_index (votes->class_start, gsize, a + 1);
          guint32 present = 0;

          for (gsize j = begin; j < end; j++)
            if (g_array_index (votes->classes, guint32, j) == c)
              present = 1;
          csr->klass[v] = present;
        }

      one = consensus_compute_csr (csr, &binary, cancellable, error);
      if (one == NULL)
        return NULL;

      for (guint i = 0; i < n_items; i++)
        {
          double p = one->posteriors[(gsize) i * 2 + 1];

          result->probability[(gsize) i * n_classes + c] = p;
          /* An item nobody answered has no class present. */
          result->present[(gsize) i * n_classes + c] = one->labels[i] != G_MAXUINT && p >= 0.5;
        }

      for (guint w = 0; w < n_workers; w++)
        result->worker_accuracy[w] += one->worker_accuracy[w] / n_classes;
    }

  return g_steal_pointer (&result);
}
