/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kfile: path checks, the pure value helpers, and I/O on a fixture tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/kfile.h"
#include "base/log.h"
#include "testlib.h"


static void test_path_valid_accepts_plain_relative_paths(void **state)
{
        assert_true(kfile_path_valid("proc/sys/vm/swappiness"));
        assert_true(kfile_path_valid("sys/block/vda/queue/scheduler"));
        assert_true(kfile_path_valid("x"));
        assert_true(kfile_path_valid("a/..b/c.")); /* dots inside a name are fine */
}

static void test_path_valid_rejects_absolute_dotdot_empty_and_dot_components(void **state)
{
        assert_false(kfile_path_valid(NULL));
        assert_false(kfile_path_valid(""));
        assert_false(kfile_path_valid("/proc/sys/vm/swappiness"));
        assert_false(kfile_path_valid(".."));
        assert_false(kfile_path_valid("../etc/passwd"));
        assert_false(kfile_path_valid("proc/sys/../../etc/shadow"));
        assert_false(kfile_path_valid("proc/.."));
        assert_false(kfile_path_valid("a//b"));
        assert_false(kfile_path_valid("a/b/"));
        assert_false(kfile_path_valid("./x"));
        assert_false(kfile_path_valid("a/./b"));
}

static void test_selected_returns_the_bracketed_choice(void **state)
{
        char thp[] = "always [madvise] never";
        char sched[] = "[none] mq-deadline";
        char plain[] = "60";
        char unclosed[] = "a [b c";

        assert_string_equal(kfile_selected(thp), "madvise");
        assert_string_equal(kfile_selected(sched), "none");
        assert_string_equal(kfile_selected(plain), "60");
        assert_string_equal(kfile_selected(unclosed), "a [b c");
}

static void test_normalize_trims_and_folds_tabs_and_newlines(void **state)
{
        char tcp[] = "4096\t87380\t6291456\n";
        char plain[] = "60\n";
        char spaced[] = "  \t a   b \n\n";
        char empty[] = " \n";

        assert_string_equal(kfile_normalize(tcp), "4096 87380 6291456");
        assert_string_equal(kfile_normalize(plain), "60");
        assert_string_equal(kfile_normalize(spaced), "a b");
        assert_string_equal(kfile_normalize(empty), "");
}

static void test_selector_offers_bracketed_and_plain_words_only_whole(void **state)
{
        const char *line = "[none] mq-deadline kyber";

        assert_true(kfile_selector_offers(line, "none"));
        assert_true(kfile_selector_offers(line, "mq-deadline"));
        assert_true(kfile_selector_offers(line, "kyber"));
        assert_false(kfile_selector_offers(line, "bfq"));
        assert_false(kfile_selector_offers(line, "mq"));
        assert_false(kfile_selector_offers(line, "deadline"));
        assert_false(kfile_selector_offers(line, ""));
        assert_true(kfile_selector_offers("none", "none"));
}

static void test_read_missing_knob_is_enoent(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        assert_int_equal(kfile_read(&f->root, "proc/sys/vm/no_such_knob", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(kfile_read_value(&f->root, "sys/kernel/mm/ksm/run", buf, sizeof(buf)), -ENOENT);
}

static void test_read_refuses_invalid_path_without_opening(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        tl_write(f->dir, "etc/secret", "x\n");
        assert_int_equal(kfile_read(&f->root, "proc/../etc/secret", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(kfile_read(&f->root, "/etc/hostname", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(kfile_write(&f->root, "/tmp/x", "1"), -EINVAL);
}

static void test_read_normalizes_tabs_of_multi_value_sysctls(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        tl_write(f->dir, "proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/net/ipv4/tcp_rmem", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "4096 131072 6291456");
}

static void test_read_value_reduces_a_selector_file(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        tl_write(f->dir, "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
        assert_int_equal(kfile_read(&f->root, "sys/kernel/mm/transparent_hugepage/enabled",
                                    buf, sizeof(buf)), 0);
        assert_string_equal(buf, "always [madvise] never");
        assert_int_equal(kfile_read_value(&f->root, "sys/kernel/mm/transparent_hugepage/enabled",
                                          buf, sizeof(buf)), 0);
        assert_string_equal(buf, "madvise");
}

static void test_read_that_does_not_fit_is_e2big(void **state)
{
        struct tl_root *f = *state;
        char buf[8];

        tl_write(f->dir, "proc/sys/kernel/long", "0123456789\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/kernel/long", buf, sizeof(buf)), -E2BIG);
        /* Exactly size - 1 bytes still fits. */
        tl_write(f->dir, "proc/sys/kernel/exact", "012345\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/kernel/exact", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "012345");
}

static void test_write_then_read_round_trips_on_a_fixture_file(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *content = NULL;
        char buf[64];

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(kfile_write(&f->root, "proc/sys/vm/swappiness", "5"), 0);
        content = tl_read(f->dir, "proc/sys/vm/swappiness");
        /* Truncated and newline-terminated, like a kernel file reads back. */
        assert_string_equal(content, "5\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/vm/swappiness", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "5");
}

static void test_write_follows_sys_block_symlinks(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *content = NULL;

        tl_write(f->dir, "sys/devices/virtual/block/vda/queue/read_ahead_kb", "128\n");
        tl_symlink(f->dir, "sys/block/vda", "../devices/virtual/block/vda");
        assert_int_equal(kfile_write(&f->root, "sys/block/vda/queue/read_ahead_kb", "4096"), 0);
        content = tl_read(f->dir, "sys/devices/virtual/block/vda/queue/read_ahead_kb");
        assert_string_equal(content, "4096\n");
}

static void test_write_to_missing_knob_fails_and_creates_nothing(void **state)
{
        struct tl_root *f = *state;

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(kfile_write(&f->root, "proc/sys/vm/new_knob", "1"), -ENOENT);
        assert_false(tl_exists(f->dir, "proc/sys/vm/new_knob"));
}

static void test_dry_run_write_leaves_the_file_alone(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *content = NULL;
        struct kroot dry;

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(kroot_open(f->dir, true, &dry), 0);
        assert_int_equal(kfile_write(&dry, "proc/sys/vm/swappiness", "10"), 0);
        kroot_close(&dry);
        content = tl_read(f->dir, "proc/sys/vm/swappiness");
        assert_string_equal(content, "60\n");
}

static void test_kroot_open_of_missing_prefix_fails_and_leaves_ret(void **state)
{
        struct kroot r = { .dirfd = -7 };

        assert_int_equal(kroot_open("/tmp/vmtuned-no-such-dir/x", false, &r), -ENOENT);
        assert_int_equal(r.dirfd, -7);
        assert_null(r.path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_valid_accepts_plain_relative_paths),
                cmocka_unit_test(test_path_valid_rejects_absolute_dotdot_empty_and_dot_components),
                cmocka_unit_test(test_selected_returns_the_bracketed_choice),
                cmocka_unit_test(test_normalize_trims_and_folds_tabs_and_newlines),
                cmocka_unit_test(test_selector_offers_bracketed_and_plain_words_only_whole),
                cmocka_unit_test_setup_teardown(test_read_missing_knob_is_enoent, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_refuses_invalid_path_without_opening, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_normalizes_tabs_of_multi_value_sysctls, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_value_reduces_a_selector_file, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_that_does_not_fit_is_e2big, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_write_then_read_round_trips_on_a_fixture_file, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_write_follows_sys_block_symlinks, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_write_to_missing_knob_fails_and_creates_nothing, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_write_leaves_the_file_alone, tl_root_setup, tl_root_teardown),
                cmocka_unit_test(test_kroot_open_of_missing_prefix_fails_and_leaves_ret),
        };

        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
