/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): the KSM module's tick on this
 * machine's real kernel. Mergeable memory (MAP_PRIVATE anonymous pages,
 * all alike, MADV_MERGEABLE; MAP_SHARED never merges) gets merged once
 * mode=auto finds memory tight (ksm_threshold_percent=100), and merging
 * stops when it finds memory plentiful (ksm_threshold_percent=0). Every KSM
 * knob is snapshotted first and put back by the teardown and at exit,
 * also when an assertion fails, with run=2 first if the test left pages
 * merged and KSM was stopped before. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/kfile.h"
#include "tuning/ksm.h"
#include "config/profile.h"
#include "tuning/rollback.h"
#include "tuning/apply.h"
#include "tuning/plan.h"
#include "testlib.h"
#include "base/util.h"

#define KSM "/sys/kernel/mm/ksm/"
#define REGION_PAGES 16384      /* 64 MiB of 4 KiB pages */

#define SET(k, v) { .section = (char *) "ksm", .key = (char *) (k), .value = (char *) (v), \
                    .file = (char *) "test-host-ksm", .line = 1 }
#define PROFILE(...) TL_PROFILE("host-ksm", __VA_ARGS__)

/* Restored in this order: the advisor first (switching it resets
 * pages_to_scan), run last. */
static const char *const knobs[] = {
        "advisor_mode", "advisor_max_cpu", "advisor_min_pages_to_scan", "advisor_max_pages_to_scan",
        "advisor_target_scan_time", "pages_to_scan", "sleep_millisecs", "merge_across_nodes",
        "use_zero_pages", "smart_scan", "max_page_sharing", "stable_node_chains_prune_millisecs", "run",
};
static char saved[ARRAY_SIZE(knobs)][64];
static bool have_saved[ARRAY_SIZE(knobs)];
static char *workdir;
static struct kroot root = { .dirfd = -1 };
static struct rollback *rb;
static struct ksm *ksm;

/* Plain reads: the safety net at exit must not depend on the test's state. */
static bool read_knob(const char *knob, char *buf, size_t size)
{
        _cleanup_free_ char *s = tl_read(KSM, knob);

        if (!s)
                return false;
        snprintf(buf, size, "%s", kfile_selected(kfile_normalize(s)));
        return true;
}

static uint64_t counter(const char *knob)
{
        char buf[64];

        return read_knob(knob, buf, sizeof(buf)) ? strtoull(buf, NULL, 10) : 0;
}

static void write_knob(const char *knob, const char *value)
{
        _cleanup_free_ char *path = xasprintf(KSM "%s", knob);
        FILE *f = fopen(path, "w");

        if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f) != 0)
                fprintf(stderr, "host test: cannot put %s back to %s: %m\n", path, value);
}

/* The safety net: every knob as it was, whatever happened. */
static void restore_ksm(void)
{
        size_t run_i = ARRAY_SIZE(knobs) - 1;
        char now[64];

        if (have_saved[run_i] && streq(saved[run_i], "0") && counter("pages_shared") > 0) {
                fprintf(stderr, "host test: unmerging what the test left merged (run=2)\n");
                write_knob("run", "2");
        }
        for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
                if (!have_saved[i] || (read_knob(knobs[i], now, sizeof(now)) && streq(now, saved[i])))
                        continue;
                fprintf(stderr, "host test: putting %s back to %s (was %s)\n", knobs[i], saved[i], now);
                write_knob(knobs[i], saved[i]);
        }
}

static int setup(void **state)
{
        _cleanup_free_ char *run = NULL;
        bool stale;

        if (!tl_running_as_root())
                return -1;
        if (kroot_open("/", false, &root) < 0)
                return -1;
        if (access(KSM "run", F_OK) < 0) {
                fprintf(stderr, "this kernel has no KSM (CONFIG_KSM)\n");
                return -1;
        }
        for (size_t i = 0; i < ARRAY_SIZE(knobs); i++)
                have_saved[i] = read_knob(knobs[i], saved[i], sizeof(saved[i]));
        atexit(restore_ksm);
        workdir = tl_mkdtemp("vmtuned-host-ksm");
        run = xasprintf("%s/run", workdir);
        if (rollback_open(run, &rb, &stale) < 0)
                return -1;
        return ksm_new(NULL, &(struct ksm_options){ .root = &root, .rollback = rb }, &ksm) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
        ksm_free(ksm);
        ksm = NULL;
        rollback_free(rb);
        rb = NULL;
        restore_ksm();
        tl_rm_rf(workdir);
        free(workdir);
        kroot_close(&root);
        return 0;
}

static double now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* REGION_PAGES private anonymous pages, all holding the same bytes. */
static char *mergeable_region(int byte)
{
        long page = sysconf(_SC_PAGESIZE);
        size_t size = (size_t) REGION_PAGES * (size_t) page;
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        assert_true(p != MAP_FAILED);
        memset(p, byte, size);
        assert_int_equal(madvise(p, size, MADV_MERGEABLE), 0);
        return p;
}

static void print_report(void)
{
        struct ksm_domain_stat self = { .name = "this test" };
        struct ksm_report r;

        assert_int_equal(ksm_report(ksm, &r), 0);
        (void) ksm_read_proc_stat(&root, getpid(), &self.stat);
        ksm_report_print(stderr, &r, &self, 1, false);
}

/* What the daemon does with a profile: the static [ksm] values through
 * the engine (less what the module writes itself), then the module. */
static void apply_profile(const struct profile *p)
{
        struct target_list t = {};
        struct apply_stats st;

        assert_int_equal(settings_plan(&root, p, &t), 0);
        ksm_filter_plan(p, ksm_count_memory_nodes(&root), &t);
        assert_int_equal(settings_apply(&root, rb, &t, &st), 0);
        target_list_free(&t);
        assert_int_equal(ksm_configure(ksm, p), 0);
}

static uint64_t self_merging_pages(void)
{
        struct ksm_proc_stat st = {};

        (void) ksm_read_proc_stat(&root, getpid(), &st);
        return st.merging_pages;
}

/* Tight: MemAvailable is always below 100 % of MemTotal. Other
 * mergeable memory on this host (QEMU guests) is scanned too, and
 * merging takes two passes: ask the advisor for a pass every 2 s rather
 * than 200, starting from 5000 pages a wake-up, not 500. Ticks until half
 * of this process's region is merged (at most 2 minutes); returns when
 * it started. */
static double merge_now(void)
{
        char run[16], advisor[32];
        double start;

        apply_profile(PROFILE(SET("mode", "auto"), SET("ksm_threshold_percent", "100"),
                              SET("advisor_target_scan_time", "2"), SET("advisor_max_cpu", "50"),
                              SET("advisor_min_pages_to_scan", "5000")));
        assert_true(read_knob("run", run, sizeof(run)));
        assert_string_equal(run, "1");
        if (read_knob("advisor_mode", advisor, sizeof(advisor)))
                assert_string_equal(advisor, "scan-time");
        start = now_sec();
        while (now_sec() - start < 120 && self_merging_pages() < REGION_PAGES / 2) {
                usleep(200 * 1000);
                assert_int_equal(ksm_tick(ksm, 0), 0);
        }
        return start;
}

/* What the daemon does at stop: the journal puts every knob back. */
static void restore_and_check(void)
{
        bool restoring_numa = rollback_find(rb, "sys/kernel/mm/ksm/merge_across_nodes") != NULL;

        assert_int_equal(ksm_prepare_restore(ksm, true, restoring_numa), 0);
        assert_true(rollback_restore_all(rb, &root) >= 0);
        for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
                char now[64];

                if (!have_saved[i] || !read_knob(knobs[i], now, sizeof(now)))
                        continue;
                /* By design left while pages are merged (more than one
                 * memory node only: on one it is never written). */
                if (streq(knobs[i], "merge_across_nodes") && !streq(now, saved[i]) && counter("pages_shared") > 0) {
                        fprintf(stderr, "merge_across_nodes left at %s (was %s): pages are merged\n", now, saved[i]);
                        continue;
                }
                if (!streq(now, saved[i]))
                        fail_msg("%s is %s after the rollback, was %s", knobs[i], now, saved[i]);
        }
}

static void test_auto_merges_when_tight_and_stops_when_plentiful_then_restore_undoes_it(void **state)
{
        long page = sysconf(_SC_PAGESIZE);
        uint64_t sharing0 = counter("pages_sharing"), sharing = sharing0, scans;
        struct ksm_proc_stat self = {};
        char run[16];
        char *region, *region2;
        double start;

        region = mergeable_region(0x5a);
        start = merge_now();
        sharing = counter("pages_sharing");
        fprintf(stderr, "after %.1f s: this process's merged pages %" PRIu64 " of %d; pages_sharing %" PRIu64
                " -> %" PRIu64 " (pages_to_scan %" PRIu64 ", full_scans %" PRIu64 ")\n", now_sec() - start,
                self_merging_pages(), REGION_PAGES, sharing0, sharing, counter("pages_to_scan"),
                counter("full_scans"));
        assert_int_equal(ksm_read_proc_stat(&root, getpid(), &self), 0);
        assert_true(self.merging_pages >= REGION_PAGES / 2);
        assert_true(self.mergeable);
        assert_true(sharing > sharing0);
        print_report();

        /* Plentiful: threshold 0 % (and no domains): stop merging. */
        apply_profile(PROFILE(SET("mode", "auto"), SET("ksm_threshold_percent", "0")));
        assert_true(read_knob("run", run, sizeof(run)));
        assert_string_equal(run, "0");
        /* ksmd no longer scans: new mergeable memory stays unmerged. */
        scans = counter("full_scans");
        sharing = counter("pages_sharing");
        region2 = mergeable_region(0x3c);
        sleep(2);
        assert_int_equal(counter("full_scans"), scans);
        assert_true(counter("pages_sharing") <= sharing);
        fprintf(stderr, "after run=0: full_scans stays %" PRIu64 ", pages_sharing %" PRIu64 "\n", scans,
                counter("pages_sharing"));
        print_report();

        restore_and_check();
        munmap(region, (size_t) REGION_PAGES * (size_t) page);
        munmap(region2, (size_t) REGION_PAGES * (size_t) page);
}

/* Issue 18: with pages merged, a profile that wants the other
 * merge_across_nodes (virtual-host-density's [ksm]) unmerges nothing: on
 * one memory node the knob is left (no effect), on more it is pending.
 * Neither at the switch nor at stop is run=2 written: every merged page
 * of this process stays merged throughout. */
static void test_merged_pages_stay_merged_when_a_profile_wants_the_other_merge_across_nodes(void **state)
{
        long page = sysconf(_SC_PAGESIZE);
        char man[16], want[4], run[16];
        const struct rollback_entry *e;
        uint64_t merged;
        char *region;

        if (!read_knob("merge_across_nodes", man, sizeof(man)))
                skip();
        region = mergeable_region(0x6b);
        (void) merge_now();
        merged = self_merging_pages();
        fprintf(stderr, "merged %" PRIu64 " of this process's %d pages; %u memory node(s)\n", merged,
                REGION_PAGES, ksm_count_memory_nodes(&root));
        assert_true(merged >= REGION_PAGES / 2);

        assert_true(read_knob("merge_across_nodes", man, sizeof(man)));
        snprintf(want, sizeof(want), "%d", streq(man, "0") ? 1 : 0);
        apply_profile(PROFILE(SET("merge_across_nodes", want), SET("pages_to_scan", "1000"), SET("run", "1")));
        assert_int_equal(ksm_tick(ksm, 0), 0);
        assert_true(read_knob("run", run, sizeof(run)));
        assert_string_equal(run, "1");
        assert_true(read_knob("merge_across_nodes", man, sizeof(man)));
        assert_string_not_equal(man, want);
        e = rollback_find(rb, "sys/kernel/mm/ksm/merge_across_nodes");
        assert_true(!e || !streq(e->written, want));
        assert_true(self_merging_pages() >= merged / 2);
        print_report();

        restore_and_check();
        /* Put back by the journal, not unmerged: run=2 drops every merged page. */
        fprintf(stderr, "after the restore: this process's merged pages %" PRIu64 "\n", self_merging_pages());
        assert_true(self_merging_pages() > 0);
        munmap(region, (size_t) REGION_PAGES * (size_t) page);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_auto_merges_when_tight_and_stops_when_plentiful_then_restore_undoes_it),
                cmocka_unit_test(test_merged_pages_stay_merged_when_a_profile_wants_the_other_merge_across_nodes),
        };
        return cmocka_run_group_tests_name("KSM on the real kernel", tests, setup, teardown);
}
