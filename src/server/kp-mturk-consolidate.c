/* kp-mturk-consolidate.c: Kempelen's extension operations ConsolidateHIT
 * and ConsolidateBatch (docs/quality.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-api.h"

const KpOperation kp_mturk_consolidate_operations[] = {
  { NULL }
};
