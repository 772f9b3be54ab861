/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl verify`: the comparison, sysctl.d read the way systemd-sysctl
 * reads it, and a whole report on a fixture root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/kfile.h"
#include "base/util.h"
#include "tuning/rollback.h"
#include "tuning/target.h"
#include "testlib.h"
#include "base/json.h"
#include "tuning/verify.h"

/* --- verify_compare ------------------------------------------------------ */

static void test_equal_value_is_ok_and_other_value_is_drift(void **state)
{
        assert_int_equal(verify_compare("10", false, "10", "10"), VERIFY_OK);
        assert_int_equal(verify_compare("10", false, "33", "10"), VERIFY_DRIFT);
        assert_int_equal(verify_compare("always", false, "madvise", NULL), VERIFY_DRIFT);
}

static void test_missing_knob_is_skipped_not_drift(void **state)
{
        assert_int_equal(verify_compare("10", false, NULL, NULL), VERIFY_SKIPPED);
        assert_int_equal(verify_compare("10", true, NULL, "10"), VERIFY_SKIPPED);
}

static void test_only_if_greater_accepts_larger_values_as_numbers(void **state)
{
        assert_int_equal(verify_compare("4096", true, "8192", NULL), VERIFY_OK);
        assert_int_equal(verify_compare("4096", true, "4096", NULL), VERIFY_OK);
        assert_int_equal(verify_compare("4096", true, "128", NULL), VERIFY_DRIFT);
        /* Compared as numbers, not strings ("9" > "10" as text). */
        assert_int_equal(verify_compare("10", true, "9", NULL), VERIFY_DRIFT);
        /* Beyond long: unsigned 64-bit sysctls. */
        assert_int_equal(verify_compare("1", true, "18446744073709551615", NULL), VERIFY_OK);
        assert_int_equal(verify_compare("-5", true, "-7", NULL), VERIFY_DRIFT);
        assert_int_equal(verify_compare("-5", true, "0", NULL), VERIFY_OK);
        assert_int_equal(verify_compare("5", true, "five", NULL), VERIFY_DRIFT);
}

static void test_value_the_kernel_made_of_our_write_is_adjusted_not_drift(void **state)
{
        /* The journal records what the kernel held after the write. */
        assert_int_equal(verify_compare("1000", false, "1024", "1024"), VERIFY_ADJUSTED);
        /* Someone changed it after that: drift. */
        assert_int_equal(verify_compare("1000", false, "7", "1024"), VERIFY_DRIFT);
}

static void test_state_names_are_stable(void **state)
{
        assert_string_equal(verify_state_to_string(VERIFY_OK), "ok");
        assert_string_equal(verify_state_to_string(VERIFY_ADJUSTED), "adjusted");
        assert_string_equal(verify_state_to_string(VERIFY_DRIFT), "drift");
        assert_string_equal(verify_state_to_string(VERIFY_SKIPPED), "skipped");
}

/* --- sysctl.d parsing ---------------------------------------------------- */

static void assert_path_form(const char *name, const char *want)
{
        char *got = verify_sysctl_path_form(name);

        assert_string_equal(got, want);
        free(got);
}

static void test_sysctl_names_are_normalized_like_systemd_sysctl(void **state)
{
        assert_path_form("vm.swappiness", "vm/swappiness");
        assert_path_form("vm/swappiness", "vm/swappiness");
        /* First separator a dot: dots and slashes swap. */
        assert_path_form("net.ipv4.conf.enp3s0/200.forwarding", "net/ipv4/conf/enp3s0.200/forwarding");
        /* First separator a slash: left as it is. */
        assert_path_form("net/ipv4/conf/enp3s0.200/forwarding", "net/ipv4/conf/enp3s0.200/forwarding");
        assert_path_form("/kernel/domainname", "kernel/domainname");
        assert_path_form("kernel", "kernel");
        /* No empty components, wherever the slashes come from (systemd's
         * own test cases; the first two were found by tests/fuzz). */
        assert_path_form(".a...b...c", "a/b/c");
        assert_path_form("/vm.swappiness", "vm.swappiness");
        assert_path_form("a...b...c", "a/b/c");
        assert_path_form("/a///b///c", "a/b/c");
}

static void test_parse_reads_assignments_comments_and_dash_lines_with_line_numbers(void **state)
{
        struct sysctl_conf c = {};
        size_t bad;

        bad = verify_sysctl_parse("# comment\n"
                                  "; also a comment\n"
                                  "\n"
                                  "  vm.swappiness =  10  \n"
                                  "-net.ipv4.conf.all.rp_filter = 1\n"
                                  "-net.ipv4.conf.lo.rp_filter\n"
                                  "kernel.core_pattern = |/bin/dump a=b\n"
                                  "not an assignment\n"
                                  "kernel.domainname=\n",
                                  "/etc/sysctl.d/x.conf", &c);
        assert_int_equal(bad, 1);
        assert_int_equal(c.n, 5);
        assert_string_equal(c.v[0].key, "vm/swappiness");
        assert_string_equal(c.v[0].value, "10");
        assert_int_equal(c.v[0].line, 4);
        assert_string_equal(c.v[0].file, "/etc/sysctl.d/x.conf");
        assert_false(c.v[0].ignore_failure);
        assert_string_equal(c.v[1].key, "net/ipv4/conf/all/rp_filter");
        assert_true(c.v[1].ignore_failure);
        assert_int_equal(c.v[1].line, 5);
        /* "-key" alone: an exclusion, no value. */
        assert_string_equal(c.v[2].key, "net/ipv4/conf/lo/rp_filter");
        assert_null(c.v[2].value);
        /* Only the first '=' separates. */
        assert_string_equal(c.v[3].value, "|/bin/dump a=b");
        assert_int_equal(c.v[3].line, 7);
        assert_string_equal(c.v[4].value, "");
        assert_int_equal(c.v[4].line, 9);
        verify_sysctl_conf_free(&c);
}

static void test_lookup_prefers_explicit_lines_over_globs_in_boot_order(void **state)
{
        const struct sysctl_assignment *found[4];
        struct sysctl_conf c = {};

        verify_sysctl_parse("vm.* = 1\nvm.swappiness = 20\n", "/usr/lib/sysctl.d/10-a.conf", &c);
        verify_sysctl_parse("vm/swappiness = 30\n", "/etc/sysctl.d/20-b.conf", &c);
        assert_int_equal(verify_sysctl_lookup(&c, "vm/swappiness", found, 4), 2);
        assert_string_equal(found[0]->value, "20");
        assert_string_equal(found[1]->value, "30");
        assert_string_equal(found[1]->file, "/etc/sysctl.d/20-b.conf");
        /* No explicit line: the glob. */
        assert_int_equal(verify_sysctl_lookup(&c, "vm/dirty_ratio", found, 4), 1);
        assert_string_equal(found[0]->key, "vm/*");
        /* Globs do not cross a '/'. */
        assert_int_equal(verify_sysctl_lookup(&c, "vm/sub/knob", found, 4), 0);
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/numa_balancing", found, 4), 0);
        verify_sysctl_conf_free(&c);
}

static void test_lookup_honours_dash_exclusions_and_counts_past_max(void **state)
{
        const struct sysctl_assignment *found[1];
        struct sysctl_conf c = {};

        verify_sysctl_parse("net.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.lo.rp_filter\n"
                            "kernel.x = 1\nkernel.x = 2\nkernel.x = 3\n"
                            "kernel.y = 1\n-kernel.y\n",
                            "/etc/sysctl.d/a.conf", &c);
        assert_int_equal(verify_sysctl_lookup(&c, "net/ipv4/conf/lo/rp_filter", found, 1), 0);
        assert_int_equal(verify_sysctl_lookup(&c, "net/ipv4/conf/eth0/rp_filter", found, 1), 1);
        /* Three lines set kernel.x; only the first fits in found. */
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/x", found, 1), 3);
        assert_string_equal(found[0]->value, "1");
        /* The last line for kernel.y excludes it: nothing sets it at boot. */
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/y", found, 1), 0);
        verify_sysctl_conf_free(&c);
}

/* --- reading sysctl.d under a root ----------------------------------------- */


static void test_load_follows_systemd_precedence_masking_and_name_order(void **state)
{
        struct tl_root *f = *state;
        const struct sysctl_assignment *found[8];
        struct sysctl_conf c = {};

        /* Same name in /usr/lib and /etc: /etc's file replaces it whole. */
        tl_write(f->dir, "usr/lib/sysctl.d/50-default.conf", "vm.swappiness = 1\nkernel.a = 1\n");
        tl_write(f->dir, "etc/sysctl.d/50-default.conf", "vm.swappiness = 2\n");
        /* Sorted by name across directories: 10 (usr/lib) before 60 (run). */
        tl_write(f->dir, "run/sysctl.d/60-run.conf", "vm.dirty_ratio = 60\n");
        tl_write(f->dir, "usr/lib/sysctl.d/10-early.conf", "vm.dirty_ratio = 10\n");
        /* Masked: an empty file, and a link to /dev/null. */
        tl_write(f->dir, "usr/lib/sysctl.d/70-masked.conf", "kernel.b = 1\n");
        tl_write(f->dir, "etc/sysctl.d/70-masked.conf", "");
        tl_write(f->dir, "usr/lib/sysctl.d/71-masked.conf", "kernel.c = 1\n");
        tl_symlink(f->dir, "etc/sysctl.d/71-masked.conf", "/dev/null");
        /* Not a .conf file. */
        tl_write(f->dir, "etc/sysctl.d/README", "kernel.d = 1\n");
        /* /etc/sysctl.conf last, and once although Debian links it in. */
        tl_write(f->dir, "etc/sysctl.conf", "vm.dirty_ratio = 99\n");
        tl_symlink(f->dir, "etc/sysctl.d/99-sysctl.conf", "../sysctl.conf");
        tl_write(f->dir, "etc/sysctl.d/zz-after.conf", "vm.dirty_ratio = 100\n");

        verify_sysctl_load(&f->root, &c);
        assert_int_equal(verify_sysctl_lookup(&c, "vm/swappiness", found, 8), 1);
        assert_string_equal(found[0]->value, "2");
        assert_string_equal(found[0]->file, "/etc/sysctl.d/50-default.conf");
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/a", found, 8), 0);
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/b", found, 8), 0);
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/c", found, 8), 0);
        assert_int_equal(verify_sysctl_lookup(&c, "kernel/d", found, 8), 0);
        assert_int_equal(verify_sysctl_lookup(&c, "vm/dirty_ratio", found, 8), 4);
        assert_string_equal(found[0]->file, "/usr/lib/sysctl.d/10-early.conf");
        assert_string_equal(found[1]->file, "/run/sysctl.d/60-run.conf");
        assert_string_equal(found[2]->file, "/etc/sysctl.d/99-sysctl.conf");
        assert_string_equal(found[3]->file, "/etc/sysctl.d/zz-after.conf");
        verify_sysctl_conf_free(&c);
}

static void test_load_reads_etc_sysctl_conf_after_the_directories(void **state)
{
        struct tl_root *f = *state;
        const struct sysctl_assignment *found[4];
        struct sysctl_conf c = {};

        tl_write(f->dir, "etc/sysctl.conf", "vm.swappiness = 5\n");
        tl_write(f->dir, "etc/sysctl.d/90-x.conf", "vm.swappiness = 6\n");
        verify_sysctl_load(&f->root, &c);
        assert_int_equal(verify_sysctl_lookup(&c, "vm/swappiness", found, 4), 2);
        assert_string_equal(found[0]->file, "/etc/sysctl.d/90-x.conf");
        assert_string_equal(found[1]->file, "/etc/sysctl.conf");
        verify_sysctl_conf_free(&c);
}

static void test_load_with_no_sysctl_files_is_empty(void **state)
{
        struct tl_root *f = *state;
        struct sysctl_conf c = {};

        verify_sysctl_load(&f->root, &c);
        assert_int_equal(c.n, 0);
        verify_sysctl_conf_free(&c);
}

/* --- a whole report --------------------------------------------------------- */

static char *print(const struct verify_report *r, bool json)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);

        assert_non_null(out);
        if (json)
                verify_report_print_json(out, r);
        else
                verify_report_print_text(out, r);
        fclose(out);
        return buf;
}

static void test_report_rows_carry_actual_original_state_and_conflicts(void **state)
{
        struct tl_root *f = *state;
        struct target t[] = {
                { .key = (char *) "sysctl vm.swappiness", .path = (char *) "proc/sys/vm/swappiness",
                  .value = (char *) "10", .source = (char *) "/p/test.conf:4",
                  .source_file = (char *) "/p/test.conf", .source_line = 4 },
                { .key = (char *) "sysctl vm.nosuch", .path = (char *) "proc/sys/vm/nosuch",
                  .value = (char *) "1", .source = (char *) "/p/test.conf:5" },
                { .key = (char *) "disk vda read_ahead_kb", .path = (char *) "sys/block/vda/queue/read_ahead_kb",
                  .value = (char *) "4096", .source = (char *) "/p/test.conf:9", .only_if_greater = true },
                { .key = (char *) "vm transparent_hugepages",
                  .path = (char *) "sys/kernel/mm/transparent_hugepage/enabled", .value = (char *) "always" },
        };
        struct target_list targets = { .v = t, .n = 4 };
        struct rollback_entry entries[] = {
                { .key = (char *) "sysctl vm.swappiness", .path = (char *) "proc/sys/vm/swappiness",
                  .original = (char *) "60", .written = (char *) "10" },
        };
        struct rollback rb = { .entries = entries, .n_entries = 1 };
        struct verify_report r;
        char *text, *json;

        tl_write(f->dir, "proc/sys/vm/swappiness", "33\n"); /* changed behind our back */
        tl_write(f->dir, "sys/block/vda/queue/read_ahead_kb", "8192\n");
        tl_write(f->dir, "sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
        tl_write(f->dir, "etc/sysctl.d/90-local.conf", "vm.swappiness = 33\n");

        verify_run(&f->root, &rb, &targets, &r);
        assert_int_equal(r.n_rows, 4);
        assert_int_equal(r.rows[0].state, VERIFY_DRIFT);
        assert_string_equal(r.rows[0].actual, "33");
        assert_string_equal(r.rows[0].original, "60");
        assert_int_equal(r.rows[0].n_conflicts, 1);
        assert_string_equal(r.rows[0].conflicts[0]->file, "/etc/sysctl.d/90-local.conf");
        assert_int_equal(r.rows[1].state, VERIFY_SKIPPED);
        assert_null(r.rows[1].actual);
        assert_int_equal(r.rows[2].state, VERIFY_OK);
        assert_string_equal(r.rows[2].desired, ">4096");
        assert_null(r.rows[2].original);
        assert_int_equal(r.rows[3].state, VERIFY_OK); /* the selected word */
        assert_null(r.rows[3].source);
        assert_int_equal(r.count[VERIFY_OK], 2);
        assert_int_equal(r.count[VERIFY_DRIFT], 1);
        assert_int_equal(r.count[VERIFY_SKIPPED], 1);

        text = print(&r, false);
        assert_non_null(strstr(text, "also set at boot by /etc/sysctl.d/90-local.conf:1: vm.swappiness = 33"));
        assert_non_null(strstr(text, "2 ok, 1 drifted, 0 adjusted by the kernel, 1 skipped"));
        json = print(&r, true);
        assert_non_null(strstr(json, "\"counts\":{\"ok\":2,\"adjusted\":0,\"drift\":1,\"skipped\":1,"
                                     "\"not_on_this_kernel\":1}"));
        /* Issue 17: a conflict's source has the one shape of every source. */
        assert_non_null(strstr(json, "\"conflicts\":[{\"source\":{\"file\":\"/etc/sysctl.d/90-local.conf\",\"line\":1},"
                                     "\"value\":\"33\"}]"));
        assert_non_null(strstr(json, "\"state\":\"drift\",\"source\":{\"file\":\"/p/test.conf\",\"line\":4},"));
        assert_non_null(strstr(json, "\"state\":\"ok\",\"source\":null,")); /* the selected word: no file */
        assert_non_null(strstr(json, "\"actual\":null"));
        free(text);
        free(json);
        verify_report_free(&r);
}

/* Issue 12: a planned key whose file this kernel does not have is "not on
 * this kernel", with the existing sysctl of its directory one or two
 * edits away as a suggestion, in the text and in --json. */
static void test_keys_not_on_this_kernel_come_with_did_you_mean(void **state)
{
        struct tl_root *f = *state;
        struct target t[] = {
                { .key = (char *) "sysctl vm.swapiness", .path = (char *) "proc/sys/vm/swapiness",
                  .value = (char *) "10", .source = (char *) "/p/test.conf:4" },
                { .key = (char *) "sysctl net.ipv4.tcp_rmme", .path = (char *) "proc/sys/net/ipv4/tcp_rmme",
                  .value = (char *) "1 2 3", .source = (char *) "/p/test.conf:5" },
                { .key = (char *) "sysctl vm.no_such_knob", .path = (char *) "proc/sys/vm/no_such_knob",
                  .value = (char *) "1", .source = (char *) "/p/test.conf:6" },
                { .key = (char *) "sysctl vn.swappiness", .path = (char *) "proc/sys/vn/swappiness",
                  .value = (char *) "1", .source = (char *) "/p/test.conf:7" },
                { .key = (char *) "sysctl vm.subdirs", .path = (char *) "proc/sys/vm/subdirs",
                  .value = (char *) "1", .source = (char *) "/p/test.conf:8" },
                { .key = (char *) "vm transparent_hugepages",
                  .path = (char *) "sys/kernel/mm/transparent_hugepage/enabled", .value = (char *) "always" },
                { .key = (char *) "sysctl vm.swappiness", .path = (char *) "proc/sys/vm/swappiness",
                  .value = (char *) "60", .source = (char *) "/p/test.conf:9" },
        };
        struct target_list targets = { .v = t, .n = ARRAY_SIZE(t) };
        struct verify_report r;
        char *text, *json;

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        tl_write(f->dir, "proc/sys/vm/dirty_ratio", "20\n");
        tl_write(f->dir, "proc/sys/vm/subdir/x", "1\n");   /* a directory: not a sysctl to suggest */
        tl_write(f->dir, "proc/sys/net/ipv4/tcp_rmem", "4096 131072 6291456\n");
        tl_write(f->dir, "proc/sys/net/ipv4/tcp_wmem", "4096 16384 4194304\n");

        verify_run(&f->root, NULL, &targets, &r);
        assert_int_equal(r.count[VERIFY_SKIPPED], 6);
        assert_int_equal(r.n_absent, 6);
        assert_true(r.rows[0].absent);
        assert_string_equal(r.rows[0].suggestion, "vm.swappiness");
        assert_string_equal(r.rows[1].suggestion, "net.ipv4.tcp_rmem");
        assert_null(r.rows[2].suggestion);  /* nothing near */
        assert_null(r.rows[3].suggestion);  /* no such directory to look in */
        assert_null(r.rows[4].suggestion);  /* subdir is a directory */
        assert_true(r.rows[5].absent);      /* a kernel without THP */
        assert_null(r.rows[5].suggestion);
        assert_false(r.rows[6].absent);
        assert_null(r.rows[6].suggestion);

        text = print(&r, false);
        assert_non_null(strstr(text, "/p/test.conf:4\n    not on this kernel; did you mean vm.swappiness?\n"));
        assert_non_null(strstr(text, "/p/test.conf:6\n    not on this kernel\n"));
        assert_non_null(strstr(text, "1 ok, 0 drifted, 0 adjusted by the kernel, 6 skipped (6 not on this kernel)"));
        json = print(&r, true);
        assert_non_null(strstr(json, "\"skipped\":6,\"not_on_this_kernel\":6}"));
        assert_non_null(strstr(json, "\"key\":\"sysctl vm.swapiness\""));
        assert_non_null(strstr(json, "\"conflicts\":[],\"not_on_this_kernel\":true,\"did_you_mean\":\"vm.swappiness\"}"));
        assert_non_null(strstr(json, "\"not_on_this_kernel\":true,\"did_you_mean\":null}"));
        assert_non_null(strstr(json, "\"not_on_this_kernel\":false,\"did_you_mean\":null}"));
        free(text);
        free(json);
        verify_report_free(&r);
}

static void test_json_strings_are_escaped(void **state)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&buf, &size);

        json_print_string(out, "a\"b\\c\td");
        fputc(' ', out);
        json_print_string(out, NULL);
        fclose(out);
        assert_string_equal(buf, "\"a\\\"b\\\\c\\u0009d\" null");
        free(buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_equal_value_is_ok_and_other_value_is_drift),
                cmocka_unit_test(test_missing_knob_is_skipped_not_drift),
                cmocka_unit_test(test_only_if_greater_accepts_larger_values_as_numbers),
                cmocka_unit_test(test_value_the_kernel_made_of_our_write_is_adjusted_not_drift),
                cmocka_unit_test(test_state_names_are_stable),
                cmocka_unit_test(test_sysctl_names_are_normalized_like_systemd_sysctl),
                cmocka_unit_test(test_parse_reads_assignments_comments_and_dash_lines_with_line_numbers),
                cmocka_unit_test(test_lookup_prefers_explicit_lines_over_globs_in_boot_order),
                cmocka_unit_test(test_lookup_honours_dash_exclusions_and_counts_past_max),
                cmocka_unit_test_setup_teardown(test_load_follows_systemd_precedence_masking_and_name_order, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_load_reads_etc_sysctl_conf_after_the_directories, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_load_with_no_sysctl_files_is_empty, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_report_rows_carry_actual_original_state_and_conflicts, tl_root_setup, tl_root_teardown),
                cmocka_unit_test(test_json_strings_are_escaped),
                cmocka_unit_test_setup_teardown(test_keys_not_on_this_kernel_come_with_did_you_mean, tl_root_setup, tl_root_teardown),
        };
        return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
