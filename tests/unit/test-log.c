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

/* The journal entry's fields, joined by newlines, for comparing whole. */
static char *journal_fields(int level, const char *id, const struct log_field *fields, int error)
{
        char *strings[32], *out = xstrdup("");

        size_t n = log_journal_fields(level, id, fields, error, "m", strings, 32);
        for (size_t i = 0; i < n; i++) {
                char *next = xasprintf("%s%s\n", out, strings[i]);

                free(out);
                free(strings[i]);
                out = next;
        }
        return out;
}

static void test_a_failed_call_gives_message_id_and_errno_fields(void **state)
{
        char *out = journal_fields(LOG_WARNING, MSGID_SETTING_REFUSED,
                                   LOG_FIELDS({ "VMTUNED_MIB", LOG_U64(18446744073709551615ULL) },
                                              { "VMTUNED_PROFIT_BYTES", LOG_I64(-4096) },
                                              { "VMTUNED_SECONDS", LOG_SECONDS(1250000) }, { "VMTUNED_UNSET", NULL }),
                                   EINVAL);

        assert_string_equal(out, "MESSAGE=m\nPRIORITY=4\nSYSLOG_IDENTIFIER=vmtuned\n"
                                 "MESSAGE_ID=" MSGID_SETTING_REFUSED "\nERRNO=22\n"
                                 "VMTUNED_MIB=18446744073709551615\nVMTUNED_PROFIT_BYTES=-4096\n"
                                 "VMTUNED_SECONDS=1.250\n");
        free(out);
}

/* VMTUNED_SECTION=sysctl VMTUNED_KEY=vm.swappiness: no quoting in filters. */
static void test_a_setting_name_is_split_into_section_instance_and_key(void **state)
{
        char *out = journal_fields(LOG_INFO, NULL, LOG_FIELDS({ "VMTUNED_KEY", "sysctl vm.swappiness" }), 0);

        assert_string_equal(out, "MESSAGE=m\nPRIORITY=6\nSYSLOG_IDENTIFIER=vmtuned\nVMTUNED_SECTION=sysctl\n"
                                 "VMTUNED_KEY=vm.swappiness\nVMTUNED_SETTING=sysctl vm.swappiness\n");
        free(out);
        out = journal_fields(LOG_INFO, NULL, LOG_FIELDS({ "VMTUNED_KEY", "disk vda scheduler" }), 0);
        assert_non_null(strstr(out, "\nVMTUNED_SECTION=disk\nVMTUNED_INSTANCE=vda\nVMTUNED_KEY=scheduler\n"));
        free(out);
        out = journal_fields(LOG_INFO, NULL, LOG_FIELDS({ "VMTUNED_KEY", "cpu cpu3 state2 force_latency" }), 0);
        assert_non_null(strstr(out, "\nVMTUNED_SECTION=cpu\nVMTUNED_INSTANCE=cpu3/state2\n"
                                    "VMTUNED_KEY=force_latency\nVMTUNED_SETTING=cpu cpu3 state2 force_latency\n"));
        free(out);
        out = journal_fields(LOG_INFO, NULL, LOG_FIELDS({ "VMTUNED_KEY", "profile" }), 0);
        assert_non_null(strstr(out, "\nVMTUNED_KEY=profile\n"));
        assert_null(strstr(out, "VMTUNED_SECTION"));
        free(out);
}

static int log_to_journal_target(void)
{
        log_event(LOG_WARNING, MSGID_SETTING_ABSENT, NULL, "no journal here");
        return 0;
}

/* Started without --foreground where no journald runs: the lines go to
 * stderr rather than nowhere. */
static void test_without_a_journal_socket_the_journal_target_logs_to_stderr(void **state)
{
        int r;
        char *out;

        log_set_journal_socket("/nonexistent/journal/socket");
        log_setup(LOG_TARGET_JOURNAL, LOG_INFO);
        out = capture_stderr(log_to_journal_target, &r);
        log_set_journal_socket("/run/systemd/journal/socket");
        log_setup(LOG_TARGET_STDERR, LOG_INFO);
        assert_string_equal(out, "vmtuned[warning]: no journal here\n");
        free(out);
}

/* The socket was there at start (here: any file), but sending fails. */
static void test_a_failed_send_to_the_journal_logs_to_stderr(void **state)
{
        char *dir, *out;
        int r;

        if (access("/run/systemd/journal/socket", F_OK) == 0) {
                skip(); /* a journald listens: the send would succeed */
                return;
        }
        dir = tl_mkdtemp("test-log-socket");
        tl_write(dir, "socket", "");
        out = xasprintf("%s/socket", dir);
        log_set_journal_socket(out);
        free(out);
        log_setup(LOG_TARGET_JOURNAL, LOG_INFO);
        out = capture_stderr(log_to_journal_target, &r);
        log_set_journal_socket("/run/systemd/journal/socket");
        log_setup(LOG_TARGET_STDERR, LOG_INFO);
        tl_rm_rf(dir);
        free(dir);
        assert_string_equal(out, "vmtuned[warning]: no journal here\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_errno_text_replaces_m_and_result_is_minus_errno),
                cmocka_unit_test(test_a_positive_errno_gives_the_same_result),
                cmocka_unit_test(test_below_the_level_nothing_is_printed_but_the_error_is_returned),
                cmocka_unit_test(test_a_failed_call_gives_message_id_and_errno_fields),
                cmocka_unit_test(test_a_setting_name_is_split_into_section_instance_and_key),
                cmocka_unit_test(test_without_a_journal_socket_the_journal_target_logs_to_stderr),
                cmocka_unit_test(test_a_failed_send_to_the_journal_logs_to_stderr),
        };

        log_setup(LOG_TARGET_STDERR, LOG_INFO);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
