/* fuzz-common.h: what every libFuzzer target of tests/fuzz shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Included by one .c file per target, so everything here is static.
 */

#pragma once

#include <stdint.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Refused input is logged as warnings or messages by design, which would
 * only slow the fuzzer down; programming errors (criticals, errors) must
 * still abort so that libFuzzer reports them. */
static GLogWriterOutput
fuzz_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }

  return G_LOG_WRITER_HANDLED;
}

static inline void
fuzz_init_logging (void)
{
  g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
}

/* Errors the server may send back to a client end up in JSON, so they
 * must be valid UTF-8 whatever the input was. */
static inline void
fuzz_assert_error (const GError *error)
{
  g_assert (error != NULL);
  g_assert (error->message != NULL && error->message[0] != '\0');
  g_assert (g_utf8_validate (error->message, -1, NULL));
}
