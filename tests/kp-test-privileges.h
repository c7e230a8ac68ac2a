/* kp-test-privileges.h: make file permissions bind a root test process
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The test suite runs as root in CI, and root ignores file mode bits
 * through three capabilities: CAP_DAC_OVERRIDE (read, write and search
 * anything), CAP_DAC_READ_SEARCH (read and search anything) and
 * CAP_FOWNER (chmod and the like on files it does not own). Dropping
 * them leaves a root process bound by mode bits like any file owner, so
 * checks of unreadable files and read-only folders really run.
 *
 * The drop cannot be undone, so call it in a g_test_trap_subprocess()
 * child (or in a program that never needs the capabilities back). It
 * uses the raw capget/capset system calls: no libcap is needed.
 */

#pragma once

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include <glib.h>
#include <glib/gstdio.h>

G_BEGIN_DECLS

/* TRUE if opening a file of mode 000 fails with EACCES in this process
 * and, if check_children, also in a program it runs (/bin/cat). */
static inline gboolean
kp_test_permissions_enforced (gboolean check_children)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  gboolean enforced;
  int saved_errno;
  int fd;

  fd = g_file_open_tmp ("kp-test-mode-XXXXXX", &path, &error);
  g_assert_no_error (error);
  g_close (fd, NULL);
  g_assert_cmpint (g_chmod (path, 0), ==, 0);

  fd = g_open (path, O_RDONLY, 0);
  saved_errno = errno;
  enforced = fd < 0 && saved_errno == EACCES;
  if (fd >= 0)
    g_close (fd, NULL);

  if (enforced && check_children)
    {
      const char *argv[] = { "/bin/cat", path, NULL };
      int wait_status = 0;

      g_spawn_sync (NULL, (char **)argv, NULL,
                    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                    NULL, NULL, NULL, NULL, &wait_status, &error);
      g_assert_no_error (error);
      /* cat exits 1 when it cannot open the file. */
      enforced = !g_spawn_check_wait_status (wait_status, NULL);
    }

  g_remove (path);
  return enforced;
}

/* Clears CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from the
 * bounding, effective, permitted and inheritable sets of the calling
 * process when it runs as root, then checks empirically that mode bits
 * are now enforced, here and in the programs it runs: TRUE if so.
 *
 * The bounding set matters for children: when root runs a program that
 * is not set-user-ID, the kernel gives it every capability of the
 * bounding set again, whatever the parent's permitted set was. */
static inline gboolean
kp_test_drop_dac_capabilities (void)
{
  static const int caps[] = { CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER };
  struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

  if (geteuid () != 0)
    return kp_test_permissions_enforced (TRUE);

  /* Needs CAP_SETPCAP, so before capset may drop anything else. */
  for (guint i = 0; i < G_N_ELEMENTS (caps); i++)
    if (prctl (PR_CAPBSET_DROP, caps[i], 0, 0, 0) != 0)
      g_test_message ("PR_CAPBSET_DROP %d: %s", caps[i], g_strerror (errno));

  memset (data, 0, sizeof data);
  if (syscall (SYS_capget, &header, data) != 0)
    {
      g_test_message ("capget: %s", g_strerror (errno));
      return kp_test_permissions_enforced (TRUE);
    }

  for (guint i = 0; i < G_N_ELEMENTS (caps); i++)
    {
      guint32 mask = CAP_TO_MASK (caps[i]);
      guint index = CAP_TO_INDEX (caps[i]);

      data[index].effective &= ~mask;
      data[index].permitted &= ~mask;
      data[index].inheritable &= ~mask;
    }

  if (syscall (SYS_capset, &header, data) != 0)
    g_test_message ("capset: %s", g_strerror (errno));

  return kp_test_permissions_enforced (TRUE);
}

/* Capabilities belong to threads: capset() changes only the calling one.
 * Returns the number of threads of this process that still hold one of
 * the three capabilities in their effective set, from /proc. */
static inline guint
kp_test_count_privileged_threads (void)
{
  const guint64 mask = (G_GUINT64_CONSTANT (1) << CAP_DAC_OVERRIDE) |
                       (G_GUINT64_CONSTANT (1) << CAP_DAC_READ_SEARCH) |
                       (G_GUINT64_CONSTANT (1) << CAP_FOWNER);
  g_autoptr(GDir) tasks = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;
  guint n = 0;

  while (tasks != NULL && (tid = g_dir_read_name (tasks)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "status", NULL);
      g_autofree char *status = NULL;
      const char *line;

      if (!g_file_get_contents (path, &status, NULL, NULL))
        continue; /* the thread has just ended */
      line = strstr (status, "\nCapEff:");
      if (line != NULL &&
          (g_ascii_strtoull (line + strlen ("\nCapEff:"), NULL, 16) & mask) != 0)
        n++;
    }

  return n;
}

/* Call first thing in main(), before g_test_init() or gtk_test_init()
 * start any thread: in a g_test_trap_subprocess() child (which only ever
 * runs a test that asked for kp_test_run_without_dac()), drops the
 * capabilities for the whole process, so the worker threads that GTK,
 * GIO or GTask start later inherit the drop. Elsewhere it does nothing. */
static inline void
kp_test_drop_dac_in_subprocess (int    argc,
                                char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_strcmp0 (argv[i], "--GTestSubprocess") == 0)
      {
        kp_test_drop_dac_capabilities ();
        return;
      }
}

/* Runs the current test again in a g_test_trap_subprocess() child whose
 * capabilities are dropped, so the rest of the program keeps root's
 * powers. Start a test with
 *
 *   if (!kp_test_run_without_dac ())
 *     return;
 *
 * In the parent it returns FALSE after asserting that the child passed
 * (or marks the test skipped if the child found that mode bits cannot be
 * enforced at all). In the child it returns TRUE once mode bits bind the
 * process, and the test goes on with its checks. */
#define KP_TEST_DAC_MARKER_ENV "KP_TEST_DAC_NOT_ENFORCED_MARKER"

static inline gboolean
kp_test_run_without_dac (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *marker = NULL;
  gboolean skipped;

  if (g_test_subprocess ())
    {
      const char *path = g_getenv (KP_TEST_DAC_MARKER_ENV);

      if (kp_test_drop_dac_capabilities ())
        {
          /* A worker thread started before the drop would still read
           * and write anything, and make the test pass wrongly. */
          if (kp_test_count_privileged_threads () != 0)
            g_error ("Some threads kept CAP_DAC_OVERRIDE: call "
                     "kp_test_drop_dac_in_subprocess() at the start of main()");
          return TRUE;
        }

      if (path != NULL)
        g_file_set_contents (path, "", 0, NULL);
      return FALSE;
    }

  dir = g_dir_make_tmp ("kp-test-dac-XXXXXX", &error);
  g_assert_no_error (error);
  marker = g_build_filename (dir, "not-enforced", NULL);
  g_setenv (KP_TEST_DAC_MARKER_ENV, marker, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (KP_TEST_DAC_MARKER_ENV);

  skipped = g_file_test (marker, G_FILE_TEST_EXISTS);
  g_remove (marker);
  g_rmdir (dir);

  g_test_trap_assert_passed ();
  if (skipped)
    g_test_skip ("File mode bits are not enforced for this process even after dropping "
                 "CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER");
  return FALSE;
}

G_END_DECLS
