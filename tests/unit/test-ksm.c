/* SPDX-License-Identifier: GPL-2.0-or-later */
/* KSM: the [ksm] options, the parsers, the decision across pressure levels
 * (on struct literals), the writes it turns into, and whole ticks against
 * a fixture root with the rollback journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/kfile.h"
#include "tuning/ksm.h"
#include "config/profile.h"
#include "tuning/rollback.h"
#include "tuning/plan.h"
#include "testlib.h"
#include "base/util.h"

#define SET(k, v) { .section = (char *) "ksm", .key = (char *) (k), .value = (char *) (v), \
                    .file = (char *) "profiles/test.conf", .line = 1 }
#define PROFILE(...) TL_PROFILE("test", __VA_ARGS__)
#define EMPTY_PROFILE (&(struct profile){ .name = (char *) "empty" })

#define GIB (UINT64_C(1024) * 1024) /* in KiB */

static const struct ksm_conf AUTO = { .mode = KSM_MODE_AUTO, .interval_sec = 10, .threshold_percent = 20,
                                      .profile_run = -1, .profile_merge_across_nodes = -1, .use_advisor = true };

/* A 16 GiB host with avail_pct percent available, no pressure, no domains. */
static struct ksm_memory mem(unsigned avail_pct)
{
        return (struct ksm_memory){ .total_kib = 16 * GIB, .available_kib = 16 * GIB * avail_pct / 100,
                                    .has_psi = true };
}

/* KSM as this machine's kernel has it: advisor, one node, nothing merged. */
static struct ksm_state kstate(int run)
{
        return (struct ksm_state){ .present = true, .run = run, .pages_to_scan = 100, .has_advisor = true,
                                   .merge_across_nodes = 1, .n_nodes = 1, .page_size_kib = 4 };
}

static struct ksm_decision decide(const struct ksm_conf *c, struct ksm_memory m, struct ksm_state s)
{
        struct ksm_decision d;

        memset(&d, 0xaa, sizeof(d));
        ksm_decide(c, &m, &s, false, &d);
        return d;
}

/* --- configuration --------------------------------------------------------- */

static void test_conf_defaults_are_mode_on_every_10_s_at_20_percent(void **state)
{
        struct ksm_conf c;

        assert_int_equal(ksm_conf_from_profile(EMPTY_PROFILE, &c), 0);
        assert_int_equal(c.mode, KSM_MODE_ON);
        assert_int_equal(c.interval_sec, 10);
        assert_int_equal(c.threshold_percent, 20);
        assert_int_equal(c.profile_run, -1);
        assert_int_equal(c.profile_merge_across_nodes, -1);
        assert_true(c.use_advisor);
        assert_false(c.unmerge_for_numa);
}

static void test_conf_reads_mode_interval_threshold_and_advisor_none(void **state)
{
        struct ksm_conf c;

        assert_int_equal(ksm_conf_from_profile(PROFILE(SET("mode", "auto"), SET("ksm_interval", "3"),
                                                       SET("ksm_threshold_percent", "35"), SET("run", "1"),
                                                       SET("merge_across_nodes", "0"),
                                                       SET("advisor_mode", "none"),
                                                       SET("unmerge_for_numa", "yes")), &c), 0);
        assert_int_equal(c.mode, KSM_MODE_AUTO);
        assert_int_equal(c.interval_sec, 3);
        assert_int_equal(c.threshold_percent, 35);
        assert_int_equal(c.profile_run, 1);
        assert_int_equal(c.profile_merge_across_nodes, 0);
        assert_false(c.use_advisor);
        assert_true(c.unmerge_for_numa);
        assert_int_equal(ksm_conf_from_profile(PROFILE(SET("mode", "sometimes")), &c), -EINVAL);
}

static void test_mode_keys_are_profile_keys_without_a_kernel_file_and_plan_nothing(void **state)
{
        struct target_list l = {};
        struct kroot root = { .dirfd = -1, .path = (char *) "/nonexistent" };

        assert_null(profile_key_lookup("ksm", "mode")->path);
        assert_null(profile_key_lookup("ksm", "ksm_interval")->path);
        assert_null(profile_key_lookup("ksm", "ksm_threshold_percent")->path);
        assert_int_equal(profile_check_setting("ksm", "mode", "auto", NULL), 0);
        assert_int_equal(profile_check_setting("ksm", "ksm_threshold_percent", "101", NULL), -EINVAL);
        assert_int_equal(profile_check_setting("ksm", "ksm_interval", "0", NULL), -EINVAL);

        assert_int_equal(settings_plan(&root, PROFILE(SET("mode", "auto"), SET("ksm_interval", "5"),
                                                      SET("sleep_millisecs", "50")), &l), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].path, "sys/kernel/mm/ksm/sleep_millisecs");
        target_list_free(&l);
}

/* --- parsers ------------------------------------------------------------------ */

static void test_meminfo_parses_raw_and_folded_and_needs_both_figures(void **state)
{
        uint64_t total = 0, avail = 0;

        assert_int_equal(ksm_parse_meminfo("MemTotal:       24684096 kB\nMemFree:        23446108 kB\n"
                                           "MemAvailable:   23769316 kB\nBuffers: 1 kB\n", &total, &avail), 0);
        assert_int_equal(total, 24684096);
        assert_int_equal(avail, 23769316);
        assert_int_equal(ksm_parse_meminfo("MemTotal: 100 kB MemFree: 5 kB MemAvailable: 7 kB", &total, &avail), 0);
        assert_int_equal(total, 100);
        assert_int_equal(avail, 7);
        assert_int_equal(ksm_parse_meminfo("MemTotal: 100 kB\nMemFree: 5 kB\n", &total, &avail), -ENODATA);
        assert_int_equal(ksm_parse_meminfo("MemTotal: lots kB\nMemAvailable: 5 kB\n", &total, &avail), -EINVAL);
}

static void test_psi_parses_some_and_full_avg10(void **state)
{
        double some = -1, full = -1;

        assert_int_equal(ksm_parse_psi("some avg10=12.50 avg60=3.00 avg300=1.00 total=123\n"
                                       "full avg10=4.25 avg60=0.00 avg300=0.00 total=45\n", &some, &full), 0);
        assert_true(some > 12.49 && some < 12.51);
        assert_true(full > 4.24 && full < 4.26);
        assert_int_equal(ksm_parse_psi("full avg10=1.00 avg60=0.00", &some, &full), -ENODATA);
        assert_int_equal(ksm_parse_psi("some avg10=x avg60=0.00", &some, &full), -EINVAL);
        /* strtod's words are not the kernel's numbers (a tests/fuzz input). */
        assert_int_equal(ksm_parse_psi("some avg10=nan avg60=0.00", &some, &full), -EINVAL);
        assert_int_equal(ksm_parse_psi("some avg10=inf avg60=0.00", &some, &full), -EINVAL);
}

static void test_proc_ksm_stat_parses_the_6_18_format_and_negative_profit(void **state)
{
        struct ksm_proc_stat st;

        assert_int_equal(ksm_parse_proc_stat("ksm_rmap_items 512\nksm_zero_pages 3\nksm_merging_pages 400\n"
                                             "ksm_process_profit 1597440\nksm_merge_any: no\nksm_mergeable: yes\n",
                                             &st), 0);
        assert_int_equal(st.rmap_items, 512);
        assert_int_equal(st.zero_pages, 3);
        assert_int_equal(st.merging_pages, 400);
        assert_int_equal(st.process_profit, 1597440);
        assert_false(st.merge_any);
        assert_true(st.mergeable);
        /* Folded by kfile_read, and a process that costs more than it saves. */
        assert_int_equal(ksm_parse_proc_stat("ksm_rmap_items 100 ksm_merging_pages 0 ksm_process_profit -6400", &st), 0);
        assert_int_equal(st.process_profit, -6400);
        /* The ends of a long, and one past them (UB before: a tests/fuzz input). */
        assert_int_equal(ksm_parse_proc_stat("ksm_process_profit -9223372036854775808", &st), 0);
        assert_true(st.process_profit == INT64_MIN);
        assert_int_equal(ksm_parse_proc_stat("ksm_process_profit 9223372036854775807", &st), 0);
        assert_true(st.process_profit == INT64_MAX);
        assert_int_equal(ksm_parse_proc_stat("ksm_process_profit 9223372036854775808", &st), -EINVAL);
        assert_int_equal(ksm_parse_proc_stat("ksm_process_profit -9223372036854775809", &st), -EINVAL);
        assert_int_equal(ksm_parse_proc_stat("ksm_process_profit -0", &st), 0);
        assert_true(st.process_profit == 0);
        assert_int_equal(ksm_parse_proc_stat("", &st), -ENODATA);
}

/* --- the decision ----------------------------------------------------------- */

static void test_auto_merges_when_available_memory_is_below_the_threshold(void **state)
{
        struct ksm_decision d = decide(&AUTO, mem(10), kstate(0));

        assert_true(d.tight);
        assert_int_equal(d.run, 1);
        assert_string_equal(d.advisor_mode, "scan-time");
        assert_int_equal(d.pages_to_scan, -1);
        assert_non_null(strstr(d.reason, "MemAvailable 1.6 GiB < 20% of MemTotal 16.0 GiB (3.2 GiB)"));
}

static void test_auto_stops_merging_when_memory_is_plentiful(void **state)
{
        struct ksm_decision d = decide(&AUTO, mem(60), kstate(1));

        assert_false(d.tight);
        assert_int_equal(d.run, 0);
        assert_null(d.advisor_mode);
        assert_non_null(strstr(d.reason, "memory plentiful: MemAvailable 9.6 GiB >= 25%"));
}

static void test_auto_keeps_run_between_the_thresholds(void **state)
{
        struct ksm_decision d;

        d = decide(&AUTO, mem(22), kstate(1));
        assert_int_equal(d.run, 1);
        assert_non_null(strstr(d.reason, "between thresholds"));
        d = decide(&AUTO, mem(22), kstate(0));
        assert_int_equal(d.run, -1);
        /* An administrator's unmerge (run=2) is not undone in the band either. */
        d = decide(&AUTO, mem(22), kstate(2));
        assert_int_equal(d.run, -1);
}

/* The hysteresis: starts below 20 %, stops only at 25 %, never flaps or unmerges. */
static void test_auto_hysteresis_over_a_falling_and_rising_memory_curve(void **state)
{
        static const unsigned avail_pct[] = { 40, 21, 19, 21, 24, 19, 24, 25, 30, 21 };
        static const int want_run[] = { 0, 0, 1, 1, 1, 1, 1, 0, 0, 0 };
        struct ksm_state s = kstate(0);

        for (size_t i = 0; i < ARRAY_SIZE(avail_pct); i++) {
                struct ksm_decision d = decide(&AUTO, mem(avail_pct[i]), s);

                if (d.run >= 0)
                        s.run = d.run;
                assert_int_not_equal(d.run, 2);
                if (s.run != want_run[i])
                        fail_msg("step %zu (%u%% available): run=%d, want %d (%s)", i, avail_pct[i], s.run,
                                 want_run[i], d.reason);
                if (d.run == 1)
                        s.advisor_on = true;
        }
}

static void test_auto_merges_under_memory_pressure_even_with_memory_available(void **state)
{
        struct ksm_memory m = mem(70);
        struct ksm_decision d;

        m.psi_some_avg10 = 15.0;
        m.psi_full_avg10 = 3.0;
        d = decide(&AUTO, m, kstate(0));
        assert_true(d.tight);
        assert_int_equal(d.run, 1);
        assert_non_null(strstr(d.reason, "PSI some avg10 15.00% >= 10%"));

        /* Eased to 5 %: not tight, not yet plentiful: still merging. */
        m.psi_some_avg10 = 5.0;
        d = decide(&AUTO, m, kstate(1));
        assert_false(d.tight);
        assert_int_equal(d.run, 1);
        /* Without PSI (psi=0) the rest decides. */
        m.has_psi = false;
        d = decide(&AUTO, m, kstate(1));
        assert_int_equal(d.run, 0);
}

static void test_auto_merges_when_domains_commit_more_than_memory_minus_threshold(void **state)
{
        struct ksm_memory m = mem(70);
        struct ksm_decision d;

        m.committed_kib = 14 * GIB;     /* 14 + 3.2 > 16 */
        d = decide(&AUTO, m, kstate(0));
        assert_true(d.tight);
        assert_int_equal(d.run, 1);
        assert_non_null(strstr(d.reason, "domains' memory 14.0 GiB + 20% (3.2 GiB) > MemTotal 16.0 GiB"));

        m.committed_kib = 12 * GIB + GIB / 2; /* 12.5 + 3.2 fits, 12.5 + 4 (25 %) does not: keep going */
        d = decide(&AUTO, m, kstate(1));
        assert_int_equal(d.run, 1);
        m.committed_kib = 8 * GIB;
        d = decide(&AUTO, m, kstate(1));
        assert_int_equal(d.run, 0);
}

/* The first decision comes with the profile, before libvirt answered:
 * unknown domains' memory neither starts merging nor stops it. */
static void test_auto_with_domains_memory_unknown_keeps_what_runs(void **state)
{
        struct ksm_memory m = mem(70);
        struct ksm_decision d;

        m.committed_kib = KSM_COMMITTED_UNKNOWN;
        d = decide(&AUTO, m, kstate(1));
        assert_false(d.tight);
        assert_int_equal(d.run, 1);
        assert_non_null(strstr(d.reason, "domains' memory was not known at this decision"));
        d = decide(&AUTO, m, kstate(0));
        assert_int_equal(d.run, -1);            /* run=0 left as it is */
        /* what memory itself says still counts */
        m = mem(10);
        m.committed_kib = KSM_COMMITTED_UNKNOWN;
        d = decide(&AUTO, m, kstate(0));
        assert_true(d.tight);
        assert_int_equal(d.run, 1);
}

static void test_threshold_100_is_always_tight_and_0_never(void **state)
{
        struct ksm_conf c = AUTO;

        c.threshold_percent = 100;
        assert_int_equal(decide(&c, mem(95), kstate(0)).run, 1);
        c.threshold_percent = 0;
        assert_int_equal(decide(&c, mem(6), kstate(1)).run, 0);
        assert_int_equal(decide(&c, mem(4), kstate(1)).run, 1);  /* below 0 + 5 %: band */
}

static void test_without_advisor_pages_to_scan_boosts_decays_and_clamps_like_ksmtuned(void **state)
{
        struct ksm_state s = kstate(1);
        struct ksm_conf no_advisor = AUTO;

        s.has_advisor = false;
        assert_int_equal(decide(&AUTO, mem(10), s).pages_to_scan, 400);
        assert_null(decide(&AUTO, mem(10), s).advisor_mode);
        s.pages_to_scan = 400;
        assert_int_equal(decide(&AUTO, mem(22), s).pages_to_scan, 350);
        s.pages_to_scan = 1100;
        assert_int_equal(decide(&AUTO, mem(10), s).pages_to_scan, 1250);
        s.pages_to_scan = 80;
        assert_int_equal(decide(&AUTO, mem(22), s).pages_to_scan, 64);
        assert_non_null(strstr(decide(&AUTO, mem(22), s).reason, "pages_to_scan 80 -> 64 (decay)"));

        /* The profile's advisor_mode=none: boost/decay though the kernel has the advisor. */
        no_advisor.use_advisor = false;
        s = kstate(0);
        s.pages_to_scan = 200;
        assert_int_equal(decide(&no_advisor, mem(10), s).pages_to_scan, 500);
        assert_null(decide(&no_advisor, mem(10), s).advisor_mode);
}

static void test_off_stops_on_leaves_run_and_unmerge_wins(void **state)
{
        struct ksm_conf c = AUTO;
        struct ksm_memory m = mem(10);
        struct ksm_state s = kstate(1);
        struct ksm_decision d;

        c.mode = KSM_MODE_OFF;
        assert_int_equal(decide(&c, m, s).run, 0);
        c.mode = KSM_MODE_ON;
        d = decide(&c, m, s);
        assert_int_equal(d.run, -1);
        assert_int_equal(d.pages_to_scan, -1);
        assert_null(d.advisor_mode);
        ksm_decide(&AUTO, &m, &s, true, &d);
        assert_int_equal(d.run, 2);
        assert_non_null(strstr(d.reason, "unmerge requested"));
}

static void test_kernel_without_ksm_gets_no_decision(void **state)
{
        struct ksm_state s = { .merge_across_nodes = -1, .n_nodes = 2 };
        struct ksm_decision d = decide(&AUTO, mem(10), s);

        assert_int_equal(d.run, -1);
        assert_int_equal(d.merge_across_nodes, -1);
        assert_non_null(strstr(d.reason, "not in this kernel"));
}

static void test_numa_host_gets_merge_across_nodes_0_directly_when_nothing_is_merged(void **state)
{
        struct ksm_state s = kstate(0);
        struct ksm_conf on = AUTO;
        struct ksm_decision d;

        s.n_nodes = 2;
        d = decide(&AUTO, mem(60), s);
        assert_int_equal(d.merge_across_nodes, 0);
        assert_false(d.unmerge_first);
        /* One node: nothing to keep apart. */
        s.n_nodes = 1;
        assert_int_equal(decide(&AUTO, mem(60), s).merge_across_nodes, -1);
        /* mode=on: only if the profile runs KSM; the administrator's ksm.service is left alone. */
        s.n_nodes = 2;
        on.mode = KSM_MODE_ON;
        assert_int_equal(decide(&on, mem(60), s).merge_across_nodes, -1);
        on.profile_run = 1;
        assert_int_equal(decide(&on, mem(60), s).merge_across_nodes, 0);
        /* The profile's own value wins where it can matter... */
        on.profile_merge_across_nodes = 1;
        s.merge_across_nodes = 0;
        assert_int_equal(decide(&on, mem(60), s).merge_across_nodes, 1);
        /* ...and is never written on one node, merged pages or not. */
        s.n_nodes = 1;
        d = decide(&on, mem(60), s);
        assert_int_equal(d.merge_across_nodes, -1);
        assert_non_null(strstr(d.reason, "merge_across_nodes=1 not written: no effect with one NUMA node"));
        s.pages_shared = 10;
        s.pages_sharing = 1000000;
        d = decide(&on, mem(60), s);
        assert_int_equal(d.merge_across_nodes, -1);
        assert_false(d.unmerge_first);
        assert_false(d.numa_pending);
}

static void test_numa_change_with_merged_pages_waits_by_default(void **state)
{
        struct ksm_state s = kstate(1);
        struct ksm_decision d;

        s.n_nodes = 2;
        s.pages_shared = 1000;
        s.pages_sharing = 262144;       /* 1 GiB to give back: it would fit, but nobody asked */
        d = decide(&AUTO, mem(60), s);
        assert_int_equal(d.merge_across_nodes, -1);
        assert_false(d.unmerge_first);
        assert_true(d.numa_pending);
        assert_int_equal(d.run, 0);
        assert_non_null(strstr(d.reason, "merge_across_nodes 1 -> 0 pending (2 NUMA nodes): 262144 pages merged; "
                                         "changing merge_across_nodes needs an unmerge of 1.0 GiB"));
        /* pages_shared alone (pages_sharing not read yet) still counts as merged. */
        s.pages_sharing = 0;
        assert_true(decide(&AUTO, mem(60), s).numa_pending);
}

static void test_numa_change_with_merged_pages_unmerges_first_only_if_asked_and_it_fits(void **state)
{
        struct ksm_conf c = AUTO;
        struct ksm_state s = kstate(1);
        struct ksm_decision d;

        c.unmerge_for_numa = true;
        s.n_nodes = 2;
        s.pages_shared = 1000;
        s.pages_sharing = 262144;       /* 1 GiB to give back */
        d = decide(&c, mem(60), s);
        assert_int_equal(d.merge_across_nodes, 0);
        assert_true(d.unmerge_first);
        assert_false(d.numa_pending);
        assert_int_equal(d.run, 0);
        assert_non_null(strstr(d.reason, "unmerging first (run=2, 1.0 GiB)"));

        s.pages_sharing = 262144 * 12;  /* 12 GiB back would leave 16 * 0.9 - 12 < 20 % */
        d = decide(&c, mem(90), s);
        assert_int_equal(d.merge_across_nodes, -1);
        assert_false(d.unmerge_first);
        assert_true(d.numa_pending);
        assert_non_null(strstr(d.reason, "needs an unmerge of 12.0 GiB, which would leave less than 20%"));
}

/* --- the writes --------------------------------------------------------------- */

static void assert_writes(const struct target_list *l, const char *const *want, size_t n)
{
        assert_int_equal(l->n, n);
        for (size_t i = 0; i < n; i++) {
                char have[128];

                snprintf(have, sizeof(have), "%s=%s", l->v[i].path + strlen("sys/kernel/mm/ksm/"), l->v[i].value);
                assert_string_equal(have, want[i]);
                assert_true(startswith(l->v[i].key, "ksm "));
                assert_non_null(l->v[i].source);
        }
}

static void test_targets_unmerge_change_numa_then_restore_run(void **state)
{
        struct ksm_state s = kstate(1);
        struct target_list l = {};

        ksm_targets(&(struct ksm_decision){ .run = -1, .pages_to_scan = -1, .merge_across_nodes = 0,
                                            .unmerge_first = true }, &s, &l);
        assert_writes(&l, (const char *const[]){ "run=2", "merge_across_nodes=0", "run=1" }, 3);
        target_list_free(&l);

        /* Stopped and unmerged already: no run to restore after. */
        s.run = 2;
        ksm_targets(&(struct ksm_decision){ .run = -1, .pages_to_scan = -1, .merge_across_nodes = 0,
                                            .unmerge_first = true }, &s, &l);
        assert_writes(&l, (const char *const[]){ "run=2", "merge_across_nodes=0" }, 2);
        target_list_free(&l);
}

static void test_targets_journal_pages_to_scan_before_the_advisor_takes_it(void **state)
{
        struct ksm_state s = kstate(0);
        struct target_list l = {};

        s.pages_to_scan = 500;
        ksm_targets(&(struct ksm_decision){ .run = 1, .pages_to_scan = -1, .merge_across_nodes = -1,
                                            .advisor_mode = "scan-time" }, &s, &l);
        assert_writes(&l, (const char *const[]){ "pages_to_scan=100", "advisor_mode=scan-time", "run=1" }, 3);
        assert_true(l.v[1].selector);
        target_list_free(&l);

        s.pages_to_scan = 100;
        ksm_targets(&(struct ksm_decision){ .run = 1, .pages_to_scan = -1, .merge_across_nodes = -1,
                                            .advisor_mode = "scan-time" }, &s, &l);
        assert_writes(&l, (const char *const[]){ "advisor_mode=scan-time", "run=1" }, 2);
        target_list_free(&l);
}

static void test_filter_plan_leaves_the_module_one_writer_per_knob(void **state)
{
        struct kroot root = { .dirfd = -1, .path = (char *) "/nonexistent" };
        struct target_list l = {};

        assert_int_equal(settings_plan_as_written(&root, PROFILE(SET("mode", "auto"), SET("run", "1"),
                                                                 SET("pages_to_scan", "300"),
                                                                 SET("advisor_mode", "scan-time"),
                                                                 SET("merge_across_nodes", "0"),
                                                                 SET("sleep_millisecs", "50"),
                                                                 SET("advisor_max_cpu", "20")), &l), 0);
        assert_int_equal(l.n, 6);
        ksm_filter_plan(PROFILE(SET("mode", "auto")), 2, &l);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.v[0].key, "ksm sleep_millisecs");
        assert_string_equal(l.v[1].key, "ksm advisor_max_cpu");
        target_list_free(&l);

        /* mode=on: run= and the scan rate are the profile's. */
        assert_int_equal(settings_plan_as_written(&root, PROFILE(SET("run", "1"), SET("pages_to_scan", "300"),
                                                                 SET("merge_across_nodes", "0")), &l), 0);
        ksm_filter_plan(PROFILE(SET("run", "1")), 2, &l);
        assert_int_equal(l.n, 2);
        assert_string_equal(l.v[0].key, "ksm run");
        assert_string_equal(l.v[1].key, "ksm pages_to_scan");
        assert_int_equal(l.n_notes, 0);
        target_list_free(&l);

        /* One memory node: not in the plan either, and a note says why. */
        assert_int_equal(settings_plan_as_written(&root, PROFILE(SET("run", "1"), SET("merge_across_nodes", "0")),
                                                  &l), 0);
        ksm_filter_plan(PROFILE(SET("run", "1")), 1, &l);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].key, "ksm run");
        assert_int_equal(l.n_notes, 1);
        assert_string_equal(l.notes[0].key, "ksm merge_across_nodes");
        assert_string_equal(l.notes[0].text, "profiles/test.conf:1: [ksm] merge_across_nodes=0 not written: "
                                             "no effect with one NUMA node");
        target_list_free(&l);
}

/* --- ticks on a fixture root ----------------------------------------------------- */

struct fixture {
        char *dir;
        struct kroot root;
        struct rollback *rb;
        struct ksm *ksm;
};

static void put(struct fixture *f, const char *rel, const char *content)
{
        _cleanup_free_ char *path = xasprintf("root/%s", rel);

        tl_write(f->dir, path, content);
}

static char *get(struct fixture *f, const char *rel)
{
        _cleanup_free_ char *path = xasprintf("root/%s", rel);
        char *s = tl_read(f->dir, path);

        assert_non_null(s);
        kfile_normalize(s);
        return s;
}

static void assert_knob(struct fixture *f, const char *knob, const char *want)
{
        _cleanup_free_ char *rel = xasprintf("sys/kernel/mm/ksm/%s", knob);
        _cleanup_free_ char *have = get(f, rel);

        assert_string_equal(have, want);
}

static void meminfo(struct fixture *f, unsigned avail_pct)
{
        _cleanup_free_ char *s = xasprintf("MemTotal: %llu kB\nMemFree: 1 kB\nMemAvailable: %llu kB\n",
                                           16ULL * GIB, 16ULL * GIB * avail_pct / 100);

        put(f, "proc/meminfo", s);
}

static int setup_root(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));
        static const char *const knobs[][2] = {
                { "run", "0" }, { "pages_to_scan", "500" }, { "sleep_millisecs", "20" },
                { "merge_across_nodes", "1" }, { "advisor_mode", "[none] scan-time" },
                { "general_profit", "-4096" }, { "pages_shared", "0" }, { "pages_sharing", "0" },
                { "pages_unshared", "0" }, { "pages_volatile", "0" }, { "full_scans", "0" },
                { "ksm_zero_pages", "0" },
        };

        f->dir = tl_mkdtemp("vmtuned-test-ksm");
        for (size_t i = 0; i < ARRAY_SIZE(knobs); i++) {
                _cleanup_free_ char *rel = xasprintf("sys/kernel/mm/ksm/%s", knobs[i][0]);
                _cleanup_free_ char *v = xasprintf("%s\n", knobs[i][1]);

                put(f, rel, v);
        }
        put(f, "sys/devices/system/node/online", "0\n");
        put(f, "proc/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                                       "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        meminfo(f, 60);
        tl_open_root_and_journal(f->dir, &f->root, &f->rb);
        assert_int_equal(ksm_new(NULL, &(struct ksm_options){ .root = &f->root, .rollback = f->rb }, &f->ksm), 0);
        *state = f;
        return 0;
}

static int teardown_root(void **state)
{
        struct fixture *f = *state;

        ksm_free(f->ksm);
        tl_close_root_and_journal(f->dir, &f->root, f->rb);
        free(f);
        return 0;
}

static void test_tick_starts_and_stops_ksm_through_the_journal_and_restore_undoes_it(void **state)
{
        struct fixture *f = *state;
        const struct rollback_entry *e;

        meminfo(f, 10);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "auto"))), 0);
        assert_knob(f, "run", "1");
        assert_knob(f, "advisor_mode", "scan-time");
        assert_knob(f, "pages_to_scan", "100");
        e = rollback_find(f->rb, "sys/kernel/mm/ksm/run");
        assert_non_null(e);
        assert_string_equal(e->original, "0");
        /* pages_to_scan journaled before the advisor, so restore undoes them in the right order. */
        assert_int_equal(f->rb->n_entries, 3);
        assert_string_equal(f->rb->entries[0].path, "sys/kernel/mm/ksm/pages_to_scan");
        assert_string_equal(f->rb->entries[1].path, "sys/kernel/mm/ksm/advisor_mode");

        meminfo(f, 22);
        assert_int_equal(ksm_tick(f->ksm, 0), 0);
        assert_knob(f, "run", "1");
        meminfo(f, 40);
        assert_int_equal(ksm_tick(f->ksm, 0), 0);
        assert_knob(f, "run", "0");
        /* The domains' memory alone makes it tight. */
        assert_int_equal(ksm_tick(f->ksm, 15 * GIB), 0);
        assert_knob(f, "run", "1");

        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_knob(f, "run", "0");
        assert_knob(f, "advisor_mode", "none");
        assert_knob(f, "pages_to_scan", "500");
}

static void test_paused_module_writes_nothing(void **state)
{
        struct fixture *f = *state;

        meminfo(f, 10);
        assert_int_equal(ksm_tick(f->ksm, 0), 0);       /* never configured */
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "off"))), 0);
        assert_knob(f, "run", "0");
        assert_int_equal(f->rb->n_entries, 0);          /* already 0: nothing journaled */
        assert_int_equal(ksm_configure(f->ksm, NULL), 0);
        put(f, "sys/kernel/mm/ksm/run", "1\n");
        assert_int_equal(ksm_tick(f->ksm, 0), 0);
        assert_knob(f, "run", "1");
}

static void test_unmerge_holds_run_2_until_released(void **state)
{
        struct fixture *f = *state;

        meminfo(f, 10);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "auto"))), 0);
        assert_knob(f, "run", "1");
        assert_int_equal(ksm_set_unmerge(f->ksm, true), 0);
        assert_knob(f, "run", "2");
        assert_int_equal(ksm_tick(f->ksm, 0), 0);
        assert_knob(f, "run", "2");
        assert_int_equal(ksm_set_unmerge(f->ksm, false), 0);
        assert_knob(f, "run", "1");
}

/* KSM's counters: 10 KSM pages shared by pages_sharing, or nothing merged. */
static void merged_pages(struct fixture *f, unsigned pages_sharing)
{
        _cleanup_free_ char *ps = xasprintf("%u\n", pages_sharing);

        put(f, "sys/kernel/mm/ksm/pages_shared", pages_sharing ? "10\n" : "0\n");
        put(f, "sys/kernel/mm/ksm/pages_sharing", ps);
}

/* KSM running with pages merged, as a host moving from ksmtuned has it;
 * nodes: the has_memory list ("0" or "0-1"). */
static void merged_host(struct fixture *f, const char *nodes, unsigned pages_sharing)
{
        _cleanup_free_ char *n = xasprintf("%s\n", nodes);

        put(f, "sys/devices/system/node/online", n);
        put(f, "sys/devices/system/node/has_memory", n);
        put(f, "sys/kernel/mm/ksm/run", "1\n");
        merged_pages(f, pages_sharing);
}

/* Neither run nor merge_across_nodes was ever written: a write goes
 * through the journal first, and the fixture files keep their values. */
static void assert_run_and_numa_untouched(struct fixture *f)
{
        assert_null(rollback_find(f->rb, "sys/kernel/mm/ksm/run"));
        assert_null(rollback_find(f->rb, "sys/kernel/mm/ksm/merge_across_nodes"));
        assert_knob(f, "run", "1");
        assert_knob(f, "merge_across_nodes", "1");
}

/* What the daemon does before the journal is restored at stop. */
static int prepare_stop(struct fixture *f)
{
        return ksm_prepare_restore(f->ksm, true,
                                   rollback_find(f->rb, "sys/kernel/mm/ksm/merge_across_nodes") != NULL);
}

static char *report_text(struct fixture *f)
{
        struct ksm_report r;
        char *out = NULL;
        size_t size = 0;
        FILE *m;

        assert_int_equal(ksm_report(f->ksm, &r), 0);
        m = open_memstream(&out, &size);
        ksm_report_print(m, &r, NULL, 0, false);
        fclose(m);
        return out;
}

/* Issue 18: virtual-host-density's [ksm] on one node with 1,000,000 pages
 * sharing unmerged them all to set a knob that has no effect there. */
static void test_one_node_with_merged_pages_writes_neither_run_nor_merge_across_nodes(void **state)
{
        struct fixture *f = *state;

        merged_host(f, "0", 1000000);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("merge_across_nodes", "0"), SET("run", "1"))), 0);
        assert_int_equal(ksm_tick(f->ksm, 0), 0);
        assert_run_and_numa_untouched(f);
        /* mode=auto while memory is tight: it merges (run stays 1), nothing more. */
        meminfo(f, 10);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "auto"), SET("merge_across_nodes", "0"),
                                                       SET("unmerge_for_numa", "yes"))), 0);
        assert_run_and_numa_untouched(f);
        /* Stop: nothing of vmtuned's to put back, and no unmerge either. */
        assert_int_equal(prepare_stop(f), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_run_and_numa_untouched(f);
}

static void test_one_node_plan_says_merge_across_nodes_has_no_effect(void **state)
{
        struct fixture *f = *state;
        struct target_list l = {};

        merged_host(f, "0", 1000000);
        assert_int_equal(settings_plan(&f->root, PROFILE(SET("merge_across_nodes", "0"), SET("run", "1")), &l), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.v[0].key, "ksm run");
        assert_int_equal(l.n_notes, 1);
        assert_non_null(strstr(l.notes[0].text, "no effect with one NUMA node"));
        target_list_free(&l);

        /* Two memory nodes (node 2 has CPUs only): the module's to decide, no note. */
        put(f, "sys/devices/system/node/online", "0-2\n");
        put(f, "sys/devices/system/node/has_memory", "0-1\n");
        assert_int_equal(ksm_count_memory_nodes(&f->root), 2);
        assert_int_equal(settings_plan(&f->root, PROFILE(SET("merge_across_nodes", "0"), SET("run", "1")), &l), 0);
        assert_int_equal(l.n, 1);
        assert_int_equal(l.n_notes, 0);
        target_list_free(&l);
}

static void test_two_nodes_with_merged_pages_keep_the_change_pending_and_status_says_why(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;

        merged_host(f, "0-1", 262144);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "on"), SET("run", "1"))), 0);
        assert_run_and_numa_untouched(f);
        out = report_text(f);
        assert_non_null(strstr(out, "merge_across_nodes 1 -> 0 pending (2 NUMA nodes): 262144 pages merged; "
                                    "changing merge_across_nodes needs an unmerge of 1.0 GiB"));
        /* mode=auto, memory plentiful (run=0 wanted): still no unmerge. */
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "auto"))), 0);
        assert_null(rollback_find(f->rb, "sys/kernel/mm/ksm/merge_across_nodes"));
        assert_knob(f, "run", "0");

        /* Nothing merged any more (KSM stopped, pages freed): applied then. */
        merged_pages(f, 0);
        assert_int_equal(ksm_tick(f->ksm, 0), 0);
        assert_knob(f, "merge_across_nodes", "0");
        assert_knob(f, "run", "0");
}

static void test_two_nodes_with_nothing_merged_get_merge_across_nodes_at_once(void **state)
{
        struct fixture *f = *state;

        merged_host(f, "0-1", 0);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "on"), SET("run", "1"))), 0);
        assert_knob(f, "merge_across_nodes", "0");
        assert_knob(f, "run", "1");
        assert_null(rollback_find(f->rb, "sys/kernel/mm/ksm/run"));
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_knob(f, "merge_across_nodes", "1");
}

static void test_unmerge_for_numa_unmerges_changes_and_restores_run_then_prepare_restore_unmerges(void **state)
{
        struct fixture *f = *state;

        merged_host(f, "0-1", 100);
        meminfo(f, 60);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "on"), SET("run", "1"),
                                                       SET("unmerge_for_numa", "yes"))), 0);
        assert_knob(f, "merge_across_nodes", "0");
        assert_knob(f, "run", "1");
        assert_string_equal(f->rb->entries[0].path, "sys/kernel/mm/ksm/run");
        assert_string_equal(f->rb->entries[0].original, "1");

        /* Stopping: the original merge_across_nodes needs nothing merged. */
        assert_int_equal(prepare_stop(f), 0);
        assert_knob(f, "run", "2");
        assert_int_equal(ksm_tick(f->ksm, 0), 0);       /* paused now */
        assert_knob(f, "run", "2");
        /* The kernel unmerged; the fixture has to say so itself. */
        merged_pages(f, 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_knob(f, "merge_across_nodes", "1");
        assert_knob(f, "run", "1");
}

static void test_unmerge_for_numa_without_the_memory_for_it_writes_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *out = NULL;

        merged_host(f, "0-1", 3145728);       /* 12 GiB back on a 16 GiB host with 9.6 available */
        meminfo(f, 60);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "on"), SET("run", "1"),
                                                       SET("unmerge_for_numa", "yes"))), 0);
        assert_run_and_numa_untouched(f);
        out = report_text(f);
        assert_non_null(strstr(out, "needs an unmerge of 12.0 GiB, which would leave less than 20%"));
}

/* Stop, switch, off, and the recovery after a crash: a journaled
 * merge_across_nodes is put back only if that needs no unmerge. */
static void test_restore_leaves_merge_across_nodes_while_pages_are_merged(void **state)
{
        struct fixture *f = *state;

        merged_host(f, "0-1", 0);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "on"), SET("run", "1"))), 0);
        assert_knob(f, "merge_across_nodes", "0");
        /* Merged since; unmerge_for_numa is not set. */
        merged_pages(f, 1000000);
        assert_int_equal(prepare_stop(f), 0);
        assert_knob(f, "run", "1");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        assert_knob(f, "merge_across_nodes", "0");
        assert_knob(f, "run", "1");
        /* Not restored, so not forgotten: the journal keeps it for the next try. */
        assert_int_equal(f->rb->n_entries, 1);
        assert_string_equal(f->rb->entries[0].original, "1");

        /* After a crash: the daemon restores a journal it did not write this run. */
        assert_int_equal(rollback_record(f->rb, "ksm merge_across_nodes", "sys/kernel/mm/ksm/merge_across_nodes",
                                         "1", "0"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 1);
        assert_knob(f, "merge_across_nodes", "0");
        assert_knob(f, "run", "1");

        /* With nothing merged it goes back. */
        merged_pages(f, 0);
        assert_int_equal(rollback_record(f->rb, "ksm merge_across_nodes", "sys/kernel/mm/ksm/merge_across_nodes",
                                         "1", "0"), 0);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_knob(f, "merge_across_nodes", "1");
}

/* Issue 12: a reload on virtual-host-density logged "KSM: unmerging
 * 1000000 pages (run=2)". No transition unmerges now; stop and off do
 * only with [ksm] unmerge_on_stop = yes, and only a KSM vmtuned started. */
static void test_only_a_stop_with_unmerge_on_stop_unmerges(void **state)
{
        struct fixture *f = *state;

        /* vmtuned started KSM (the plan's run=1, journaled as apply does). */
        merged_host(f, "0", 1000);
        meminfo(f, 60);
        assert_int_equal(rollback_record(f->rb, "ksm run", "sys/kernel/mm/ksm/run", "0", "1"), 0);

        /* A reload or a switch (not stopping), whatever the profile says. */
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("run", "1"), SET("unmerge_on_stop", "yes"))), 0);
        assert_int_equal(ksm_prepare_restore(f->ksm, false, false), 0);
        assert_knob(f, "run", "1");
        /* Stopping without unmerge_on_stop: run goes back, the sharing stays. */
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("run", "1"))), 0);
        assert_int_equal(prepare_stop(f), 0);
        assert_knob(f, "run", "1");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_knob(f, "run", "0");

        /* Stopping with unmerge_on_stop = yes: run=2 first, then run's original. */
        put(f, "sys/kernel/mm/ksm/run", "1\n");
        assert_int_equal(rollback_record(f->rb, "ksm run", "sys/kernel/mm/ksm/run", "0", "1"), 0);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("run", "1"), SET("unmerge_on_stop", "yes"))), 0);
        assert_knob(f, "run", "1");
        assert_int_equal(prepare_stop(f), 0);
        assert_knob(f, "run", "2");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_knob(f, "run", "0");

        /* A KSM running before vmtuned (run=1 already): never unmerged by it. */
        put(f, "sys/kernel/mm/ksm/run", "1\n");
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("run", "1"), SET("unmerge_on_stop", "yes"))), 0);
        assert_int_equal(prepare_stop(f), 0);
        assert_knob(f, "run", "1");
}

/* Issue 15: KSM woke every 10 s in every mode, reading 8 files that can
 * change no decision in mode=on. Now only auto or a pending change wakes it. */
static void test_only_auto_or_a_pending_change_wakes_the_module(void **state)
{
        struct fixture *f = *state;
        sd_event *event = NULL;
        struct ksm *k = NULL;

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(ksm_new(event, &(struct ksm_options){ .root = &f->root, .rollback = f->rb }, &k), 0);
        assert_int_equal(ksm_configure(k, PROFILE(SET("mode", "on"), SET("run", "1"))), 0);
        assert_false(ksm_ticking(k));
        assert_int_equal(ksm_configure(k, PROFILE(SET("mode", "off"))), 0);
        assert_false(ksm_ticking(k));
        assert_int_equal(ksm_configure(k, PROFILE(SET("mode", "auto"))), 0);
        assert_true(ksm_ticking(k));
        /* mode=on with merge_across_nodes waiting for nothing merged. */
        merged_host(f, "0-1", 1000);
        assert_int_equal(ksm_configure(k, PROFILE(SET("mode", "on"), SET("merge_across_nodes", "0"))), 0);
        assert_true(ksm_ticking(k));
        assert_int_equal(ksm_configure(k, NULL), 0);
        assert_false(ksm_ticking(k));
        ksm_free(k);
        sd_event_unref(event);
}

/* Issue 17: a profile without [ksm] runs the default mode=on, which has
 * nothing to apply: the report said "mode on, stopped" and the log "KSM
 * stopped (mode=on)", as if mode=on had stopped KSM. Now both say that the
 * profile has no [ksm] and KSM is as the kernel has it. */
static void test_a_profile_without_ksm_says_so_not_mode_on(void **state)
{
        struct fixture *f = *state;
        struct ksm_report r;
        struct ksm_conf c;
        char *out = NULL;
        size_t size = 0;
        FILE *m;

        assert_int_equal(ksm_conf_from_profile(EMPTY_PROFILE, &c), 0);
        assert_false(c.in_profile);
        assert_int_equal(ksm_conf_from_profile(PROFILE(SET("mode", "on")), &c), 0);
        assert_true(c.in_profile);

        put(f, "sys/kernel/mm/ksm/run", "0\n");
        meminfo(f, 80);
        assert_int_equal(ksm_configure(f->ksm, EMPTY_PROFILE), 0);
        assert_int_equal(ksm_report(f->ksm, &r), 0);
        assert_false(r.in_profile);
        m = open_memstream(&out, &size);
        ksm_report_print(m, &r, NULL, 0, false);
        fclose(m);
        assert_non_null(strstr(out, "KSM: no [ksm] in the profile, stopped (run=0)\n  why: left as the kernel has it\n"));
        assert_null(strstr(out, "mode on"));
        free(out);
}

static void test_report_prints_mode_state_profit_and_domains(void **state)
{
        struct fixture *f = *state;
        struct ksm_domain_stat doms[] = { { .name = "vm\"1", .stat = { .merging_pages = 400, .process_profit = 1597440 } } };
        struct ksm_proc_stat st;
        struct ksm_report r;
        char *out = NULL;
        size_t size = 0;
        FILE *m;

        put(f, "sys/kernel/mm/ksm/pages_sharing", "262144\n");
        put(f, "sys/kernel/mm/ksm/general_profit", "1073741824\n");
        put(f, "proc/4242/ksm_stat", "ksm_rmap_items 1\nksm_zero_pages 0\nksm_merging_pages 7\n"
                                     "ksm_process_profit 28672\nksm_merge_any: no\nksm_mergeable: yes\n");
        meminfo(f, 10);
        assert_int_equal(ksm_configure(f->ksm, PROFILE(SET("mode", "auto"))), 0);
        assert_int_equal(ksm_read_proc_stat(&f->root, 4242, &st), 0);
        assert_int_equal(st.merging_pages, 7);
        assert_int_equal(ksm_read_proc_stat(&f->root, 4243, &st), -ENOENT);

        assert_int_equal(ksm_report(f->ksm, &r), 0);
        assert_true(r.configured);
        assert_int_equal(r.mode, KSM_MODE_AUTO);
        assert_true(r.tight);
        assert_int_equal(r.state.run, 1);

        m = open_memstream(&out, &size);
        ksm_report_print(m, &r, doms, 1, false);
        fclose(m);
        assert_non_null(strstr(out, "KSM: mode auto, merging (run=1)"));
        assert_non_null(strstr(out, "saved: 1.0 GiB (general_profit); pages_sharing 262144"));
        assert_non_null(strstr(out, "memory tight: MemAvailable"));
        assert_non_null(strstr(out, " 1 MiB\n"));
        free(out);

        m = open_memstream(&out, &size);
        ksm_report_print(m, &r, doms, 1, true);
        fclose(m);
        assert_non_null(strstr(out, "\"mode\":\"auto\",\"run\":1,\"tight\":true"));
        assert_non_null(strstr(out, "\"general_profit\":1073741824,\"pages_sharing\":262144"));
        assert_non_null(strstr(out, "\"domains\":[{\"name\":\"vm\\\"1\",\"merging_pages\":400"));
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_conf_defaults_are_mode_on_every_10_s_at_20_percent),
                cmocka_unit_test(test_conf_reads_mode_interval_threshold_and_advisor_none),
                cmocka_unit_test(test_mode_keys_are_profile_keys_without_a_kernel_file_and_plan_nothing),
                cmocka_unit_test(test_meminfo_parses_raw_and_folded_and_needs_both_figures),
                cmocka_unit_test(test_psi_parses_some_and_full_avg10),
                cmocka_unit_test(test_proc_ksm_stat_parses_the_6_18_format_and_negative_profit),
                cmocka_unit_test(test_auto_merges_when_available_memory_is_below_the_threshold),
                cmocka_unit_test(test_auto_stops_merging_when_memory_is_plentiful),
                cmocka_unit_test(test_auto_keeps_run_between_the_thresholds),
                cmocka_unit_test(test_auto_hysteresis_over_a_falling_and_rising_memory_curve),
                cmocka_unit_test(test_auto_merges_under_memory_pressure_even_with_memory_available),
                cmocka_unit_test(test_auto_merges_when_domains_commit_more_than_memory_minus_threshold),
                cmocka_unit_test(test_auto_with_domains_memory_unknown_keeps_what_runs),
                cmocka_unit_test(test_threshold_100_is_always_tight_and_0_never),
                cmocka_unit_test(test_without_advisor_pages_to_scan_boosts_decays_and_clamps_like_ksmtuned),
                cmocka_unit_test(test_off_stops_on_leaves_run_and_unmerge_wins),
                cmocka_unit_test(test_kernel_without_ksm_gets_no_decision),
                cmocka_unit_test(test_numa_host_gets_merge_across_nodes_0_directly_when_nothing_is_merged),
                cmocka_unit_test(test_numa_change_with_merged_pages_waits_by_default),
                cmocka_unit_test(test_numa_change_with_merged_pages_unmerges_first_only_if_asked_and_it_fits),
                cmocka_unit_test(test_targets_unmerge_change_numa_then_restore_run),
                cmocka_unit_test(test_targets_journal_pages_to_scan_before_the_advisor_takes_it),
                cmocka_unit_test(test_filter_plan_leaves_the_module_one_writer_per_knob),
                cmocka_unit_test_setup_teardown(test_tick_starts_and_stops_ksm_through_the_journal_and_restore_undoes_it,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_paused_module_writes_nothing, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_unmerge_holds_run_2_until_released, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_one_node_with_merged_pages_writes_neither_run_nor_merge_across_nodes,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_one_node_plan_says_merge_across_nodes_has_no_effect,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_two_nodes_with_merged_pages_keep_the_change_pending_and_status_says_why,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_two_nodes_with_nothing_merged_get_merge_across_nodes_at_once,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_unmerge_for_numa_unmerges_changes_and_restores_run_then_prepare_restore_unmerges,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_unmerge_for_numa_without_the_memory_for_it_writes_nothing,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_restore_leaves_merge_across_nodes_while_pages_are_merged,
                                                setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_only_a_stop_with_unmerge_on_stop_unmerges, setup_root,
                                                teardown_root),
                cmocka_unit_test_setup_teardown(test_only_auto_or_a_pending_change_wakes_the_module, setup_root,
                                                teardown_root),
                cmocka_unit_test_setup_teardown(test_a_profile_without_ksm_says_so_not_mode_on, setup_root, teardown_root),
                cmocka_unit_test_setup_teardown(test_report_prints_mode_state_profit_and_domains, setup_root, teardown_root),
        };
        return cmocka_run_group_tests_name("ksm", tests, NULL, NULL);
}
