/* kp-core.h: the umbrella header of libkempelen-core
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#define KP_CORE_INSIDE

#include "kp-geometry.h"
#include "kp-mask.h"
#include "kp-store.h"
#include "kp-document.h"
#include "kp-export.h"
#include "kp-import.h"
#include "kp-question.h"
#include "kp-regions.h"
#include "kp-layout.h"
#include "kp-template.h"
#include "kp-tracks.h"
#include "kp-sigv4.h"
#include "kp-worker-cache.h"
#include "kp-consolidate.h"

#undef KP_CORE_INSIDE
