/* kp-application.h: the workstation application
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KP_SETTINGS_SCHEMA_ID "io.github.kempelen.Kempelen"

#define KP_TYPE_APPLICATION (kp_application_get_type ())
G_DECLARE_FINAL_TYPE (KpApplication, kp_application, KP, APPLICATION, AdwApplication)

KpApplication *kp_application_new               (void);

/* Call first thing in main(): the fallback origin of the startup figures
 * when /proc/self/stat cannot be read. */
void           kp_application_mark_process_start (void);
/* Milliseconds since the process started (for the startup benchmarks). */
double         kp_application_get_uptime_ms      (void);

G_END_DECLS
