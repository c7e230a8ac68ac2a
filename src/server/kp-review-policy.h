/* kp-review-policy.h: MTurk's review policies, evaluated (kp-review-policy.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * ScoreMyKnownAnswers/2011-09-01 (assignment level) scores each submitted
 * assignment against the HIT's AnswerKey with kp_consolidate_score(), and
 * keeps Kempelen's running gold score per (requester, qualification type,
 * worker) as a qualification. SimplePlurality/2011-09-01 (HIT level) runs
 * when the HIT becomes Reviewable at a submission. Both record results and
 * actions in review_results (ListReviewPolicyResultsForHIT) and act
 * (approve, reject, extend) through the same code as the MTurk operations.
 * Everything happens in the caller's transaction; nothing is kept in
 * memory between requests. docs/quality.md describes the rules.
 */

#pragma once

#include "kp-api.h"

G_BEGIN_DECLS

#define KP_POLICY_KNOWN_ANSWERS "ScoreMyKnownAnswers/2011-09-01"
#define KP_POLICY_PLURALITY     "SimplePlurality/2011-09-01"

/* Checks a policy's Parameters at CreateHIT: known parameter names only,
 * each once, with values of the right kind and range; AnswerKey with
 * MapEntries; ScoreQualificationTypeId one of the requester's own types.
 * member is the request member ("AssignmentReviewPolicy") for messages.
 * Fails with a ParameterValidation RequestError (or
 * QualificationTypeDoesNotExist). */
gboolean kp_review_policy_validate   (KpCtx        *ctx,
                                      const char   *member,
                                      const char   *policy_name,
                                      JsonObject   *policy,
                                      GError      **error);

/* Runs the policies of assignment_id's HIT right after it was submitted
 * (kp_hits_submit(), in the same transaction): the assignment policy on
 * this assignment, then the HIT policy if the HIT is now Reviewable. A
 * failed action is recorded as Failed, not returned; only store errors
 * fail. */
gboolean kp_review_policy_submitted  (KpCtx        *ctx,
                                      const char   *assignment_id,
                                      GError      **error);

/* Runs the HIT policy (SimplePlurality) of hit_id if it has one and is
 * Reviewable now: at the submission that made it so, or when it expired
 * (kp_hits_run_jobs()). */
gboolean kp_review_policy_hit_reviewable (KpCtx       *ctx,
                                          const char  *hit_id,
                                          GError     **error);

/* A worker accepts a HIT of a type with these requirements: grants each
 * required AutoGranted qualification type (Active, without a test) the
 * worker has never held (no row at all) at its AutoGrantedValue. A
 * Revoked qualification is never granted again. */
gboolean kp_review_policy_auto_grant (KpCtx        *ctx,
                                      const char   *worker_id,
                                      const char   *requirements_json,
                                      GError      **error);

G_END_DECLS
