/* kp-quals.h: qualification logic shared by the MTurk and worker APIs
 * (kp-mturk-quals.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-api.h"

G_BEGIN_DECLS

/* The system qualification types, with MTurk's own ids. Their values are
 * computed from each worker's real history. */
#define KP_QUAL_NUMBER_HITS_APPROVED        "00000000000000000040"
#define KP_QUAL_PERCENT_ASSIGNMENTS_APPROVED "000000000000000000L0"
#define KP_QUAL_LOCALE                       "00000000000000000071"
#define KP_QUAL_ADULT                        "00000000000000000060"
#define KP_QUAL_MASTERS                      "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH"
#define KP_QUAL_MASTERS_SANDBOX              "2ARFPLSP75KLA8M8DH1HTEQFJN0F6X"

/* Checks a QualificationRequirements array (as CreateHIT / CreateHITType
 * receive it): each QualificationTypeId exists and is usable by this
 * requester, Comparator is valid with the right number and kind of values
 * (IntegerValues / LocaleValues), ActionsGuarded is valid, RequiredToPreview
 * is translated to ActionsGuarded as MTurk does; at most 10. On success
 * *normalized is the canonical JSON text to store (stable member order, so
 * equal requirements give equal text). requirements may be NULL (= "[]"). */
gboolean kp_quals_validate_requirements (KpCtx       *ctx,
                                         JsonArray   *requirements,
                                         char       **normalized,
                                         GError     **error);

typedef enum
{
  KP_QUALS_ACTION_DISCOVER,  /* see the HIT group in the marketplace */
  KP_QUALS_ACTION_PREVIEW,
  KP_QUALS_ACTION_ACCEPT,
} KpQualsAction;

/* Whether worker_id may take action on a HIT of a type with these stored
 * requirements (ActionsGuarded honoured: a requirement guards Accept only,
 * PreviewAndAccept, or DiscoverPreviewAndAccept). When not allowed and
 * reason is not NULL, *reason explains which requirement failed (for the
 * worker). */
gboolean kp_quals_worker_may (KpCtx          *ctx,
                              const char     *worker_id,
                              const char     *requirements_json,
                              KpQualsAction   action,
                              gboolean       *allowed,
                              char          **reason,
                              GError        **error);

/* A worker asks for a qualification (worker API): with a test, test_answer
 * is the QuestionFormAnswers XML, graded at once against the AnswerKey if
 * there is one (granting the score); AutoGranted types are granted at once;
 * otherwise a Pending request the requester accepts or rejects. Honors
 * RetryDelay (NULL: no retry) and refuses Inactive types. *request_id gets
 * the request's id (or NULL when granted at once without a request). */
gboolean kp_quals_request    (KpCtx       *ctx,
                              const char  *worker_id,
                              const char  *qualification_type_id,
                              const char  *test_answer,
                              char       **request_id,
                              GError     **error);

G_END_DECLS
