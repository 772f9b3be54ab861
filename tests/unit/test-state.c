/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The persisted profile choice (src/daemon/state.c): what is accepted, and
 * the file's I/O in a temporary state directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "daemon/state.h"
#include "testlib.h"

static int parse(const char *text, struct state_profile *ret)
{
        return state_profile_parse(text, strlen(text), ret);
}

static void test_one_or_two_profile_names_are_accepted(void **state)
{
        struct state_profile s;

        assert_int_equal(parse("virtual-host\n", &s), 0);
        assert_string_equal(s.name, "virtual-host");
        assert_null(s.base);
        assert_true(state_profile_applies(&s, "anything"));
        state_profile_clear(&s);

        assert_int_equal(parse("latency\nvirtual-host", &s), 0);
        assert_string_equal(s.name, "latency");
        assert_string_equal(s.base, "virtual-host");
        assert_true(state_profile_applies(&s, "virtual-host"));
        assert_false(state_profile_applies(&s, "virtual-host-density"));
        state_profile_clear(&s);
}

static void test_anything_else_is_refused(void **state)
{
        static const char *const bad[] = {
                "", "\n", "a\n\n", "a\nb\nc\n", "../x\n", ".hidden\n", "a b\n", "a\r\n", "a\nb\n\n",
        };
        char big[STATE_PROFILE_MAX + 2];
        struct state_profile s = {};

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                if (parse(bad[i], &s) != -EINVAL)
                        fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(state_profile_parse("a\0b\n", 4, &s), -EINVAL);
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_int_equal(parse(big, &s), -EFBIG);
        assert_null(s.name);
}

static void test_write_then_read_gives_the_choice_and_leaves_no_temporary(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("vmtuned-state");
        _cleanup_free_ char *sub = xasprintf("%s/lib/vmtuned", dir);
        _cleanup_free_ char *parent = xasprintf("%s/lib", dir);
        struct state_profile s;
        char *text;

        assert_int_equal(state_profile_read(sub, &s), 0);  /* nothing chosen yet */
        assert_int_equal(mkdir(parent, 0755), 0);
        assert_int_equal(state_profile_write(sub, "other", "test"), 0);
        text = tl_read(sub, "active_profile");
        assert_string_equal(text, "other\ntest\n");
        free(text);
        assert_false(tl_exists(sub, "active_profile.tmp"));
        assert_int_equal(state_profile_read(sub, &s), 1);
        assert_string_equal(s.name, "other");
        assert_string_equal(s.base, "test");
        state_profile_clear(&s);

        assert_int_equal(state_profile_remove(sub), 1);
        assert_int_equal(state_profile_remove(sub), 0);
        assert_int_equal(state_profile_read(sub, &s), 0);
        tl_rm_rf(dir);
}

/* A link planted where the temporary file goes is replaced, never
 * written through. */
static void test_planted_temporary_link_is_not_written_through(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("vmtuned-state");
        _cleanup_free_ char *victim = xasprintf("%s/victim", dir);
        _cleanup_free_ char *tmp = xasprintf("%s/active_profile.tmp", dir);
        char *text;

        tl_write(dir, "victim", "precious\n");
        assert_int_equal(link(victim, tmp), 0);
        assert_int_equal(state_profile_write(dir, "other", NULL), 0);
        text = tl_read(dir, "victim");
        assert_string_equal(text, "precious\n");
        free(text);
        assert_int_equal(symlink(victim, tmp), 0);
        assert_int_equal(state_profile_write(dir, "test", NULL), 0);
        text = tl_read(dir, "victim");
        assert_string_equal(text, "precious\n");
        free(text);
        text = tl_read(dir, "active_profile");
        assert_string_equal(text, "test\n");
        free(text);
        tl_rm_rf(dir);
}

/* Not a regular file of ours that only we may write: refused, and a FIFO
 * does not hang the reader. */
static void test_symlink_fifo_and_writable_files_are_refused(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("vmtuned-state");
        _cleanup_free_ char *file = xasprintf("%s/active_profile", dir);
        struct state_profile s = {};

        tl_write(dir, "elsewhere", "other\n");
        tl_symlink(dir, "active_profile", "elsewhere");
        assert_int_equal(state_profile_read(dir, &s), -ELOOP);
        assert_int_equal(unlink(file), 0);

        assert_int_equal(mkfifo(file, 0600), 0);
        assert_int_equal(state_profile_read(dir, &s), -EPERM);
        assert_int_equal(unlink(file), 0);

        tl_write(dir, "active_profile", "other\n");
        assert_int_equal(chmod(file, 0620), 0);
        assert_int_equal(state_profile_read(dir, &s), -EPERM);
        assert_int_equal(chmod(file, 0600), 0);
        assert_int_equal(state_profile_read(dir, &s), 1);
        state_profile_clear(&s);

        tl_write(dir, "active_profile", "no/slash\n");
        assert_int_equal(state_profile_read(dir, &s), -EINVAL);
        assert_null(s.name);
        tl_rm_rf(dir);
}

static void test_source_is_described_as_status_shows_it(void **state)
{
        char *text;

        text = profile_source_describe(PROFILE_SOURCE_PERSISTED, "/etc/vmtuned.conf", "/var/lib/vmtuned", false);
        assert_string_equal(text, "vmtunectl profile (persisted in /var/lib/vmtuned/active_profile)");
        free(text);
        text = profile_source_describe(PROFILE_SOURCE_CONFIG, "/etc/vmtuned.conf", "/var/lib/vmtuned", false);
        assert_string_equal(text, "configuration file /etc/vmtuned.conf");
        free(text);
        text = profile_source_describe(PROFILE_SOURCE_DEFAULT, NULL, "/var/lib/vmtuned", false);
        assert_string_equal(text, "built-in default");
        free(text);
        text = profile_source_describe(PROFILE_SOURCE_COMMAND_LINE, NULL, "/var/lib/vmtuned", false);
        assert_string_equal(text, "command line");
        free(text);
        assert_string_equal(profile_source_to_string(PROFILE_SOURCE_UNSAVED), "vmtunectl");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_or_two_profile_names_are_accepted),
                cmocka_unit_test(test_anything_else_is_refused),
                cmocka_unit_test(test_write_then_read_gives_the_choice_and_leaves_no_temporary),
                cmocka_unit_test(test_planted_temporary_link_is_not_written_through),
                cmocka_unit_test(test_symlink_fifo_and_writable_files_are_refused),
                cmocka_unit_test(test_source_is_described_as_status_shows_it),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
