/* SPDX-License-Identifier: GPL-2.0-or-later */
/* log_<level>_errno: the error's text in place of %m, the result -errno,
 * and nothing printed below the level (but still the result). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "testlib.h"

/* Run fn with stderr sent to a temporary file; returns what it printed. */
static char *capture_stderr(int (*fn)(void), int *ret)
{
        char *dir = tl_mkdtemp("test-log");
        char *path = xasprintf("%s/stderr", dir);
        int saved = dup(STDERR_FILENO), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char *out;

        assert_true(saved >= 0 && fd >= 0);
        fflush(stderr);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        close(fd);
        *ret = fn();
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        out = tl_read(dir, "stderr");
        tl_rm_rf(dir);
        free(path);
        free(dir);
        return out;
}

static int log_enoent(void) { return log_error_errno(-ENOENT, "Cannot open %s: %m", "x"); }
static int log_positive_errno(void) { return log_warning_errno(EACCES, "refused: %m"); }
static int errno_after;
static int log_below_level(void)
{
        int r;

        errno = 1234;
        r = log_debug_errno(-EIO, "not shown: %m");
        errno_after = errno;
        return r;
}

static void test_errno_text_replaces_m_and_result_is_minus_errno(void **state)
{
        int r;
        char *out = capture_stderr(log_enoent, &r);

        assert_int_equal(r, -ENOENT);
        assert_string_equal(out, "vmtuned[err]: Cannot open x: No such file or directory\n");
        free(out);
}

static void test_a_positive_errno_gives_the_same_result(void **state)
{
        int r;
        char *out = capture_stderr(log_positive_errno, &r);

        assert_int_equal(r, -EACCES);
        assert_string_equal(out, "vmtuned[warning]: refused: Permission denied\n");
        free(out);
}

static void test_below_the_level_nothing_is_printed_but_the_error_is_returned(void **state)
{
        int r;
        char *out;

        out = capture_stderr(log_below_level, &r);
        assert_int_equal(r, -EIO);
        assert_string_equal(out, "");
        assert_int_equal(errno_after, 1234); /* logging leaves errno alone */
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_errno_text_replaces_m_and_result_is_minus_errno),
                cmocka_unit_test(test_a_positive_errno_gives_the_same_result),
                cmocka_unit_test(test_below_the_level_nothing_is_printed_but_the_error_is_returned),
        };

        log_setup(LOG_TARGET_STDERR, LOG_INFO);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
