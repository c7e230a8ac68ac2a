/* kp-consolidate.h: turning several workers' answers into one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Two levels:
 *
 * 1. Numerics (kp-consensus.c): classification votes (item, worker,
 *    class) consolidated by majority vote or Dawid–Skene EM (full
 *    confusion matrices or the one-coin model, Dirichlet priors, warm
 *    start from the majority vote); multi-label as one binary question
 *    per class. Shapes (kp-consolidate-shapes.c): boxes matched into
 *    clusters by IoU per label (greedy or Hungarian), kept when a quorum
 *    of workers supports them, coordinates averaged; polygons, keypoints,
 *    lines, text answers, audio segments (temporal IoU) and video tracks
 *    by the analogous rule.
 *
 * 2. Answers (kp-consolidate-answers.c): KpConsolidator takes the crowd
 *    answers of many assignments (one JSON object per assignment: element
 *    name -> the answer in the crowd element's own shape, as
 *    kp-layout-answer.c documents them), infers each element's type from
 *    the answer's shape, consolidates every element of every item, and
 *    reports results as JSON with the fixed members documented below. The
 *    server (ConsolidateHIT / ConsolidateBatch), kempelenctl and the
 *    review desk all use this one implementation.
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_CONSOLIDATE_ERROR (kp_consolidate_error_quark ())

typedef enum
{
  KP_CONSOLIDATE_ERROR_FAILED,
  KP_CONSOLIDATE_ERROR_INVALID,     /* an answer or an option that cannot be used */
  KP_CONSOLIDATE_ERROR_CANCELLED,
} KpConsolidateError;

GQuark kp_consolidate_error_quark (void);

/* ------------------------------------------------------------------ */
/* Classification votes                                               */
/* ------------------------------------------------------------------ */

typedef struct _KpVotes KpVotes;

/* An empty vote set. Items, workers and classes are dense indices from 0;
 * either intern names (kp_votes_intern_*) or give sizes and use indices
 * directly (the benchmark does). */
KpVotes    *kp_votes_new                (void);
void        kp_votes_free               (KpVotes       *votes);
/* Grows the index ranges to at least these sizes (names of indices added
 * this way are NULL). */
void        kp_votes_reserve            (KpVotes       *votes,
                                         guint          n_items,
                                         guint          n_workers,
                                         guint          n_classes,
                                         gsize          n_votes);
guint       kp_votes_intern_item        (KpVotes       *votes,
                                         const char    *name);
guint       kp_votes_intern_worker      (KpVotes       *votes,
                                         const char    *name);
guint       kp_votes_intern_class       (KpVotes       *votes,
                                         const char    *name);
/* Index of an existing name, or G_MAXUINT. */
guint       kp_votes_lookup_item        (const KpVotes *votes,
                                         const char    *name);
guint       kp_votes_lookup_worker      (const KpVotes *votes,
                                         const char    *name);
guint       kp_votes_lookup_class       (const KpVotes *votes,
                                         const char    *name);
const char *kp_votes_get_item_name      (const KpVotes *votes,
                                         guint          item);
const char *kp_votes_get_worker_name    (const KpVotes *votes,
                                         guint          worker);
const char *kp_votes_get_class_name     (const KpVotes *votes,
                                         guint          klass);
/* One worker's label for one item. A second vote of the same worker for
 * the same item replaces the first. Indices beyond the current sizes
 * grow them. */
void        kp_votes_add                (KpVotes       *votes,
                                         guint          item,
                                         guint          worker,
                                         guint          klass);
/* Fixes the true class of a gold item: every method reports it with
 * confidence 1, and Dawid–Skene holds the item's posterior on it in every
 * step, so gold items teach each worker's confusion. G_MAXUINT unsets. */
void        kp_votes_set_known          (KpVotes       *votes,
                                         guint          item,
                                         guint          klass);
guint       kp_votes_get_n_items        (const KpVotes *votes);
guint       kp_votes_get_n_workers      (const KpVotes *votes);
guint       kp_votes_get_n_classes      (const KpVotes *votes);
gsize       kp_votes_get_n_votes        (const KpVotes *votes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpVotes, kp_votes_free)

typedef enum
{
  KP_CONSENSUS_MAJORITY,      /* plurality; ties broken by the lower class index */
  KP_CONSENSUS_DAWID_SKENE,   /* full confusion matrix per worker */
  KP_CONSENSUS_ONE_COIN,      /* one accuracy per worker, errors spread evenly */
} KpConsensusMethod;

/* "majority" (also "mv", "majority-vote"), "dawid-skene" ("ds"),
 * "one-coin"; case-insensitive. */
gboolean    kp_consensus_method_from_string (const char        *name,
                                             KpConsensusMethod *method);
const char *kp_consensus_method_to_string   (KpConsensusMethod  method);

typedef struct
{
  KpConsensusMethod method;
  guint    max_iterations;    /* EM iterations at most (default 100) */
  double   tolerance;         /* stop when no posterior moves more than this (default 1e-4) */
  double   prior_diagonal;    /* Dirichlet pseudo-count on each confusion row's diagonal
                               * (one-coin: on "correct") (default 2.0) */
  double   prior_off_diagonal;/* pseudo-count on each other cell (one-coin: on "wrong") (default 1.0) */
  double   prior_class;       /* pseudo-count on each class prior (default 1.0) */
  gboolean warm_start;        /* start EM from the majority vote's posteriors (default TRUE);
                               * FALSE starts from uniform worker accuracy 0.7 */
  guint    n_threads;         /* 0: g_get_num_processors () */
} KpConsensusOptions;

/* Fills options with the defaults above for method. */
void        kp_consensus_options_init   (KpConsensusOptions *options,
                                         KpConsensusMethod   method);

typedef struct
{
  KpConsensusMethod method;
  guint    n_items;
  guint    n_workers;
  guint    n_classes;
  guint   *labels;            /* [n_items]: consensus class; G_MAXUINT for an item without votes */
  double  *confidence;        /* [n_items]: posterior (or vote share) of labels[i] */
  double  *posteriors;        /* [n_items × n_classes], row-major */
  double  *worker_accuracy;   /* [n_workers]: P(correct); majority: agreement with the consensus */
  double  *confusion;         /* [n_workers × n_classes × n_classes], [w][true][given];
                               * NULL for the majority vote */
  double  *class_priors;      /* [n_classes] */
  guint    iterations;        /* EM iterations run (0 for the majority vote) */
  gboolean converged;
  double   log_likelihood;    /* of the final model (0 for the majority vote) */
} KpConsensus;

/* Consolidates every item. NULL options: the defaults for
 * KP_CONSENSUS_DAWID_SKENE. Fails only when cancelled or on impossible
 * options. */
KpConsensus *kp_consensus_compute       (const KpVotes            *votes,
                                         const KpConsensusOptions *options,
                                         GCancellable             *cancellable,
                                         GError                  **error) G_GNUC_WARN_UNUSED_RESULT;
void         kp_consensus_free          (KpConsensus              *consensus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpConsensus, kp_consensus_free)

/* Multi-label answers: each (item, worker) gives a set of classes;
 * consolidated as one binary question per class (present / absent), each
 * by method. */
typedef struct _KpMultiVotes KpMultiVotes;

KpMultiVotes *kp_multi_votes_new          (void);
void          kp_multi_votes_free         (KpMultiVotes  *votes);
KpVotes      *kp_multi_votes_get_names    (KpMultiVotes  *votes);  /* interning; votes of its own unused */
void          kp_multi_votes_add          (KpMultiVotes  *votes,
                                           guint          item,
                                           guint          worker,
                                           const guint   *classes,
                                           guint          n_classes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpMultiVotes, kp_multi_votes_free)

typedef struct
{
  guint    n_items;
  guint    n_classes;
  guint8  *present;           /* [n_items × n_classes]: 1 when the class is in the consensus set */
  double  *probability;       /* [n_items × n_classes]: P(present) */
  double  *worker_accuracy;   /* [n_workers]: mean over classes */
  guint    n_workers;
} KpMultiConsensus;

KpMultiConsensus *kp_multi_consensus_compute (const KpMultiVotes       *votes,
                                              const KpConsensusOptions *options,
                                              GCancellable             *cancellable,
                                              GError                  **error) G_GNUC_WARN_UNUSED_RESULT;
void              kp_multi_consensus_free    (KpMultiConsensus         *consensus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpMultiConsensus, kp_multi_consensus_free)

/* ------------------------------------------------------------------ */
/* Shapes                                                             */
/* ------------------------------------------------------------------ */

typedef enum
{
  KP_MATCHING_GREEDY,         /* pairs by descending IoU */
  KP_MATCHING_HUNGARIAN,      /* optimal assignment maximising total IoU */
} KpMatching;

typedef struct
{
  char   *label;
  double  left, top, width, height;
} KpConsolidateBox;

typedef struct
{
  KpConsolidateBox box;        /* the averaged box (label: the cluster's label) */
  double   confidence;         /* support × mean IoU to the averaged box, 0..1 */
  double   agreement;          /* mean pairwise IoU of the members, 0..1 */
  guint    support;            /* distinct workers in the cluster */
  GArray  *members;            /* one element per member, each two guint32: (worker index,
                                * box index in that worker's list); len counts members,
                                * member m's pair starts at
                                * (guint32 *) members->data + 2 * m */
} KpBoxCluster;

void        kp_box_cluster_free         (KpBoxCluster *cluster);

double      kp_box_iou                  (const KpConsolidateBox *a,
                                         const KpConsolidateBox *b);

/* workers: n_workers arrays (GArray of KpConsolidateBox), one per worker
 * (each worker's boxes; a worker contributes at most one box per
 * cluster). Clusters of one label only; kept when support ≥ quorum
 * (quorum 0: a strict majority of n_workers). Returns a GPtrArray of
 * KpBoxCluster, sorted by label then position. */
GPtrArray  *kp_consolidate_boxes        (GArray * const *workers,
                                         guint           n_workers,
                                         double          iou_threshold,
                                         guint           quorum,
                                         KpMatching      matching);

/* ------------------------------------------------------------------ */
/* Answers                                                            */
/* ------------------------------------------------------------------ */

/* The crowd answer of an assignment from its QuestionFormAnswers XML: a
 * single "taskAnswers" FreeText holding a JSON array of one object (what
 * crowd-form submits) gives that object; otherwise an object of
 * QuestionIdentifier -> FreeText (string), SelectionIdentifier (array of
 * strings; OtherSelectionText under "ID.other") or UploadedFileKey. */
JsonObject *kp_answer_object_from_xml   (const char    *xml,
                                         GError       **error) G_GNUC_WARN_UNUSED_RESULT;

typedef struct
{
  KpConsensusMethod method;        /* for classification elements (default DAWID_SKENE) */
  KpConsensusOptions consensus;    /* its options (defaults for method) */
  double     iou_threshold;        /* boxes, polygons, segments, tracks (default 0.5) */
  guint      quorum;               /* 0: a strict majority of the item's assignments */
  KpMatching matching;             /* default KP_MATCHING_HUNGARIAN */
  double     keypoint_distance;    /* pixels; keypoints closer than this match (default 10) */
} KpConsolidateOptions;

void        kp_consolidate_options_init (KpConsolidateOptions *options);

typedef struct _KpConsolidator KpConsolidator;

KpConsolidator *kp_consolidator_new     (const KpConsolidateOptions *options);  /* NULL: defaults */
void        kp_consolidator_free        (KpConsolidator *self);

/* Adds one assignment's answer (a crowd answer object, element name ->
 * value) for item (a HIT id). Answers of elements whose shape is not
 * understood are kept and reported with Type "unsupported". Fails
 * (KP_CONSOLIDATE_ERROR_INVALID) on an answer that is not an object. */
gboolean    kp_consolidator_add         (KpConsolidator *self,
                                         const char     *item_id,
                                         const char     *worker_id,
                                         const char     *assignment_id,
                                         JsonObject     *answer,
                                         GError        **error);
/* Gold: the known answer of item, in the same shape. Gold items take part
 * in the estimate of each worker's quality with their known labels fixed,
 * and their results report "Gold": true and each assignment's
 * "GoldCorrect". */
void        kp_consolidator_set_gold    (KpConsolidator *self,
                                         const char     *item_id,
                                         JsonObject     *known_answer);

/* Runs the consolidation of everything added (classification elements by
 * the consensus method over all items together, so that workers' quality
 * is learned across the batch; shapes per item). */
gboolean    kp_consolidator_run         (KpConsolidator *self,
                                         GCancellable   *cancellable,
                                         GError        **error);

/* After run: item ids in the order they were first added. */
guint       kp_consolidator_get_n_items (KpConsolidator *self);
const char *kp_consolidator_get_item_id (KpConsolidator *self,
                                         guint           index);

/* After run: the result of one item, a new object with exactly these
 * members (the wire format of ConsolidateHIT / ConsolidateBatch and of
 * `kempelenctl batch consolidate --format json`):
 *
 *   "ItemId":      the item id (HIT id)
 *   "Answer":      {element: consolidated value in the crowd element's
 *                  own answer shape} — so every existing exporter of crowd
 *                  answers takes it as it takes one worker's answer
 *   "Confidence":  0..1, the mean of the elements' confidences
 *   "Agreement":   0..1, the mean of the elements' agreements (the review
 *                  desk sorts by 1 - Agreement, the disagreement)
 *   "Gold":        true for gold items (absent otherwise)
 *   "Elements":    {element: {
 *        "Type":       "classification" | "multi-label" | "boxes" |
 *                      "polygons" | "keypoints" | "lines" | "polylines" |
 *                      "text" | "number" | "checkboxes" | "segments" |
 *                      "tracks" | "unsupported",
 *        "Method":     "majority" | "dawid-skene" | "one-coin" | "iou-clustering" | …,
 *        "Confidence": 0..1,
 *        "Agreement":  0..1,
 *        "Posteriors": {class: p}            (classification)
 *        "Probabilities": {class: p}         (multi-label)
 *        "Objects":    [{the consolidated object's members, plus
 *                        "confidence", "support", "agreement",
 *                        "members": [{"AssignmentId", "index"}]}]   (shapes)
 *   }}
 *   "Assignments": [{"AssignmentId", "WorkerId",
 *                    "Agreement": 0..1 (share of this assignment's answers that
 *                                 agree with the consensus; shapes by matched IoU),
 *                    "GoldCorrect": 0..1 (gold items only)}]
 */
JsonObject *kp_consolidator_dup_result  (KpConsolidator *self,
                                         const char     *item_id);

/* After run: {worker id: {"Accuracy": 0..1 (the model's estimate),
 * "Agreement": 0..1 (mean of the worker's assignments' Agreement),
 * "Assignments": n, "GoldAnswers": n, "GoldAccuracy": 0..1 (when
 * GoldAnswers > 0)}}. */
JsonObject *kp_consolidator_dup_workers (KpConsolidator *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpConsolidator, kp_consolidator_free)

/* A known answer's value from text, as an AnswerKey of ScoreMyKnownAnswers
 * or a gold CSV column holds it: JSON object or array text gives that
 * value; anything else is the string itself (a class label, or a text
 * answer). */
JsonNode   *kp_answer_value_parse       (const char *text) G_GNUC_WARN_UNUSED_RESULT;

/* How well answer matches known, 0..1: the mean over known's elements of
 * each element's score. Classification: 1 when the label is the same ("Cat"
 * equals {"label": "Cat"}); multi-label: Jaccard of the sets; text: 1 when
 * equal after Unicode normalisation, case folding and collapsing
 * whitespace; number: 1 when equal within 1e-9 relative; checkboxes: share
 * of keys alike; shapes: F1 of the matching at the options' IoU threshold
 * (keypoints: within keypoint_distance). An element known but not
 * answered scores 0. NULL options: defaults. */
double      kp_consolidate_score        (JsonObject                 *answer,
                                         JsonObject                 *known,
                                         const KpConsolidateOptions *options);

G_END_DECLS
