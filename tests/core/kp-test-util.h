/* kp-test-util.h: small helpers shared by the core tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

G_BEGIN_DECLS

/* Defaults for the sanitizer runtimes, read at start-up when the tests
 * are built with -Db_sanitize=address,undefined (and ignored otherwise),
 * so that the tests behave the same under meson test, the CI script or a
 * debugger. G_TEST_OPTION_ISOLATE_DIRS makes GLib's g_set_user_dirs()
 * keep the strings of every previous test's directories on purpose: other
 * code may still hold them. Finding that frame in GLib, which is built
 * without frame pointers, needs the slow unwinder. */
const char *__lsan_default_suppressions (void);
const char *__asan_default_options (void);
const char *__ubsan_default_options (void);

const char *
__lsan_default_suppressions (void)
{
  return "leak:g_set_user_dirs\n"
         "leak:g_type_register_static\n"
         "leak:g_type_register_fundamental\n"
         "leak:g_quark_from_static_string\n"
         "leak:g_quark_init\n";
}

const char *
__asan_default_options (void)
{
  return "fast_unwind_on_malloc=0";
}

/* UBSan only prints by default; a report must fail the test. */
const char *
__ubsan_default_options (void)
{
  return "halt_on_error=1:print_stacktrace=1";
}

/* A new empty folder under the temporary directory; remove it with
 * kp_test_rm_rf(). */
static inline char *
kp_test_make_folder (void)
{
  g_autoptr(GError) error = NULL;
  char *path = g_dir_make_tmp ("kp-core-test-XXXXXX", &error);

  g_assert_no_error (error);
  return path;
}

static inline void
kp_test_write (const char *folder,
               const char *relative,
               const char *contents,
               gssize      len)
{
  g_autofree char *path = g_build_filename (folder, relative, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
}

static inline void
kp_test_rm_rf (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_unlink (path);
      return;
    }

  g_chmod (path, 0755);
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      kp_test_rm_rf (child);
    }
  g_rmdir (path);
}

static inline GBytes *
kp_test_read (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

G_END_DECLS
