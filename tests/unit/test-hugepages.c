/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The [hugepages] section: amounts (hugepages-policy.c, pure), the plan on
 * a fixture tree of two memory nodes and a memoryless one (plan-hugepages.c),
 * and a restore that never takes the pages in use (rollback.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/kfile.h"
#include "base/util.h"
#include "config/profile.h"
#include "tuning/apply.h"
#include "tuning/hugepages-policy.h"
#include "tuning/plan.h"
#include "tuning/rollback.h"
#include "testlib.h"

#define SET(k, v) { .section = (char *) "hugepages", .key = (char *) (k), .value = (char *) (v), \
                    .file = (char *) "profiles/test.conf", .line = 1 }
#define PROFILE(...) TL_PROFILE("test", __VA_ARGS__)
#define HP "sys/kernel/mm/hugepages/hugepages-2048kB/"
#define NODE "sys/devices/system/node/"


static int setup(void **state)
{
        static const struct tl_file files[] = {
                { "root/proc/meminfo", "MemTotal:       16777216 kB\nMemFree:        8000000 kB\n" },
                { "root/" HP "nr_hugepages", "0\n" },
                { "root/" HP "free_hugepages", "0\n" },
                { "root/" HP "nr_overcommit_hugepages", "0\n" },
                { "root/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "0\n" },
                { "root/" NODE "node0/meminfo", "Node 0 MemTotal:        4194304 kB\nNode 0 MemFree: 1 kB\n" },
                { "root/" NODE "node0/hugepages/hugepages-2048kB/nr_hugepages", "0\n" },
                { "root/" NODE "node0/hugepages/hugepages-2048kB/free_hugepages", "0\n" },
                { "root/" NODE "node1/meminfo", "Node 1 MemTotal:        2097152 kB\nNode 1 MemFree: 1 kB\n" },
                { "root/" NODE "node1/hugepages/hugepages-2048kB/nr_hugepages", "0\n" },
                { "root/" NODE "node1/hugepages/hugepages-2048kB/free_hugepages", "0\n" },
                /* node2 has CPUs but no memory: no hugepages directory */
                { "root/" NODE "node2/cpulist", "4-7\n" },
        };
        struct tl_plan_fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-hugepages");
        tl_write_files(f->dir, files, ARRAY_SIZE(files));
        tl_open_root_and_journal(f->dir, &f->root, &f->rb);
        *state = f;
        return 0;
}

static void assert_target(const struct tl_plan_fixture *f, size_t i, const char *key, const char *path,
                          const char *value)
{
        assert_true(i < f->targets->n);
        assert_string_equal(f->targets->v[i].key, key);
        assert_string_equal(f->targets->v[i].path, path);
        assert_string_equal(f->targets->v[i].value, value);
}

/* --- amounts ------------------------------------------------------------- */

static void test_amounts_are_pages_memory_or_a_share(void **state)
{
        struct hugepages_amount a;

        assert_int_equal(hugepages_amount_parse("512", &a), 0);
        assert_int_equal(hugepages_amount_pages(&a, 2048, 0), 512);
        assert_int_equal(hugepages_amount_parse("8G", &a), 0);
        assert_int_equal(hugepages_amount_pages(&a, 2048, 0), 4096);
        assert_int_equal(hugepages_amount_pages(&a, 1048576, 0), 8);
        assert_int_equal(hugepages_amount_parse("3MiB", &a), 0);
        assert_int_equal(hugepages_amount_pages(&a, 2048, 0), 1); /* whole pages, rounded down */
        assert_int_equal(hugepages_amount_parse("25%", &a), 0);
        assert_int_equal(hugepages_amount_pages(&a, 2048, 4194304), 512);
        assert_int_equal(hugepages_amount_parse("0", &a), 0);
        assert_int_equal(hugepages_amount_pages(&a, 2048, 0), 0);
        assert_int_equal(hugepages_amount_parse("101%", &a), -EINVAL);
        assert_int_equal(hugepages_amount_parse("8X", &a), -EINVAL);
        assert_int_equal(hugepages_amount_parse("-1", &a), -EINVAL);
        assert_int_equal(hugepages_amount_parse("", &a), -EINVAL);
        assert_int_equal(hugepages_amount_parse("99999999999999T", &a), -EINVAL);
}

static void test_restore_may_not_go_below_the_pages_in_use(void **state)
{
        uint64_t in_use = 0;

        assert_true(hugepages_restore_allowed(0, 16, 16, &in_use));
        assert_int_equal(in_use, 0);
        assert_false(hugepages_restore_allowed(0, 16, 4, &in_use));
        assert_int_equal(in_use, 12);
        assert_true(hugepages_restore_allowed(12, 16, 4, &in_use));
        assert_true(hugepages_path_is_nr(HP "nr_hugepages"));
        assert_false(hugepages_path_is_nr(HP "nr_overcommit_hugepages"));
}

/* --- plans --------------------------------------------------------------- */

static void test_per_node_share_reaches_every_node_with_memory(void **state)
{
        struct tl_plan_fixture *f = *state;

        tl_plan(f, PROFILE(SET("per_node", "25%"), SET("total", "100"), SET("overcommit", "1G")));
        assert_int_equal(f->targets->n, 3);
        assert_target(f, 0, "hugepages node0 2048kB", NODE "node0/hugepages/hugepages-2048kB/nr_hugepages", "512");
        assert_target(f, 1, "hugepages node1 2048kB", NODE "node1/hugepages/hugepages-2048kB/nr_hugepages", "256");
        assert_target(f, 2, "hugepages 2048kB overcommit", HP "nr_overcommit_hugepages", "512");
        assert_true(tl_has_note(f->targets, "total=100 ignored"));
}

static void test_total_in_memory_or_share_of_memtotal_and_1g_pages(void **state)
{
        struct tl_plan_fixture *f = *state;

        tl_plan(f, PROFILE(SET("total", "8G")));
        assert_int_equal(f->targets->n, 1);
        assert_target(f, 0, "hugepages 2048kB", HP "nr_hugepages", "4096");
        tl_plan(f, PROFILE(SET("total", "50%")));
        assert_target(f, 0, "hugepages 2048kB", HP "nr_hugepages", "4096");
        tl_plan(f, PROFILE(SET("page_size", "1G"), SET("total", "2G")));
        assert_target(f, 0, "hugepages 1048576kB", "sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages",
                      "2");
        /* no 1G per-node pools in this tree */
        tl_plan(f, PROFILE(SET("page_size", "1G"), SET("per_node", "1")));
        assert_int_equal(f->targets->n, 0);
        assert_true(tl_has_note(f->targets, "no node offers"));
}

static void test_a_kernel_without_the_page_size_gets_a_note(void **state)
{
        struct tl_plan_fixture *f = *state;

        tl_rm_rf(f->root.path);
        tl_write(f->dir, "root/proc/meminfo", "MemTotal: 1 kB\n");
        tl_plan(f, PROFILE(SET("total", "16")));
        assert_int_equal(f->targets->n, 0);
        assert_true(tl_has_note(f->targets, "this kernel has no 2M huge pages"));
}

static void test_restore_keeps_the_entry_while_vms_hold_the_pages(void **state)
{
        struct tl_plan_fixture *f = *state;
        struct rollback *again = NULL;
        struct apply_stats st;
        bool stale = false;

        tl_plan(f, PROFILE(SET("total", "16")));
        assert_int_equal(settings_apply(&f->root, f->rb, f->targets, &st), 0);
        assert_int_equal(st.applied, 1);
        /* a VM took 12 of the 16 pages */
        tl_write(f->dir, "root/" HP "free_hugepages", "4\n");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        tl_assert_value(f->root.path, HP "nr_hugepages", "16");
        assert_non_null(rollback_find(f->rb, HP "nr_hugepages"));

        /* killed, restarted: still kept while the pages are in use */
        tl_journal_owner_died(f->rb);
        assert_int_equal(rollback_open(f->rb->dir, &again, &stale), 0);
        assert_true(stale);
        assert_int_equal(rollback_restore_all(again, &f->root), 1);
        tl_assert_value(f->root.path, HP "nr_hugepages", "16");

        /* the VM stopped: the original comes back, the journal empties */
        tl_write(f->dir, "root/" HP "free_hugepages", "16\n");
        assert_int_equal(rollback_restore_all(again, &f->root), 0);
        tl_assert_value(f->root.path, HP "nr_hugepages", "0");
        assert_int_equal(again->n_entries, 0);
        rollback_free(again);
}

/* While the pages are in use the entry waits, and says why; the daemon's
 * retry restores it once they are free, without a stop or a start. */
static void test_a_waiting_entry_says_why_and_the_retry_restores_it_once_free(void **state)
{
        struct tl_plan_fixture *f = *state;
        const struct rollback_entry *e;
        struct apply_stats st;
        char *why, *text;
        bool blocked;

        text = hugepages_waiting_text("0", 16, 12);
        assert_string_equal(text, "waiting, 12 of 16 pages in use by running VMs (original 0)");
        free(text);

        tl_plan(f, PROFILE(SET("total", "16")));
        assert_int_equal(settings_apply(&f->root, f->rb, f->targets, &st), 0);
        e = rollback_find(f->rb, HP "nr_hugepages");
        assert_false(e->waiting);
        assert_false(rollback_has_waiting(f->rb));
        /* nothing waits: the retry does nothing, the profile's value stays */
        assert_int_equal(rollback_retry_waiting(f->rb, &f->root), 0);
        tl_assert_value(f->root.path, HP "nr_hugepages", "16");

        tl_write(f->dir, "root/" HP "free_hugepages", "4\n");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        e = rollback_find(f->rb, HP "nr_hugepages");
        assert_true(e->waiting);
        assert_true(rollback_has_waiting(f->rb));
        why = rollback_waiting_reason(e, &f->root, &blocked);
        assert_string_equal(why, "waiting, 12 of 16 pages in use by running VMs (original 0)");
        assert_true(blocked);
        free(why);
        assert_int_equal(rollback_retry_waiting(f->rb, &f->root), 0);
        tl_assert_value(f->root.path, HP "nr_hugepages", "16");

        /* another restore (a stop, an off) while in use: still waiting */
        assert_int_equal(rollback_restore_unwanted(f->rb, &f->root, NULL, NULL), 1);
        assert_true(rollback_find(f->rb, HP "nr_hugepages")->waiting);

        /* the VM stopped */
        tl_write(f->dir, "root/" HP "free_hugepages", "16\n");
        why = rollback_waiting_reason(rollback_find(f->rb, HP "nr_hugepages"), &f->root, &blocked);
        assert_false(blocked);
        free(why);
        assert_int_equal(rollback_retry_waiting(f->rb, &f->root), 1);
        tl_assert_value(f->root.path, HP "nr_hugepages", "0");
        assert_int_equal(f->rb->n_entries, 0);
        assert_false(tl_exists(f->dir, "run/rollback"));
}

static bool wants_everything(const char *path, void *userdata)
{
        return true;
}

/* A transition whose plan wants the pool again clears the mark, so the
 * retry never takes back what the running profile set. */
static void test_a_plan_that_wants_the_pool_again_ends_the_wait(void **state)
{
        struct tl_plan_fixture *f = *state;
        struct apply_stats st;

        tl_plan(f, PROFILE(SET("total", "16")));
        assert_int_equal(settings_apply(&f->root, f->rb, f->targets, &st), 0);
        tl_write(f->dir, "root/" HP "free_hugepages", "4\n");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        assert_true(rollback_has_waiting(f->rb));
        assert_int_equal(rollback_restore_unwanted(f->rb, &f->root, wants_everything, NULL), 0);
        assert_false(rollback_has_waiting(f->rb));
        tl_write(f->dir, "root/" HP "free_hugepages", "16\n");
        assert_int_equal(rollback_retry_waiting(f->rb, &f->root), 0);
        tl_assert_value(f->root.path, HP "nr_hugepages", "16");
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, tl_plan_fixture_teardown)
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_amounts_are_pages_memory_or_a_share),
                cmocka_unit_test(test_restore_may_not_go_below_the_pages_in_use),
                T(test_per_node_share_reaches_every_node_with_memory),
                T(test_total_in_memory_or_share_of_memtotal_and_1g_pages),
                T(test_a_kernel_without_the_page_size_gets_a_note),
                T(test_restore_keeps_the_entry_while_vms_hold_the_pages),
                T(test_a_waiting_entry_says_why_and_the_retry_restores_it_once_free),
                T(test_a_plan_that_wants_the_pool_again_ends_the_wait),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
