/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The [cpu] section: its values (cpu-policy.c, pure) and its plan on
 * fixture trees of an intel_pstate host, an acpi-cpufreq host and a VM
 * without cpufreq (plan-cpu.c), applied and restored with the journal; a
 * CPU that comes online later (hot-plug) and goes offline again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/kfile.h"
#include "base/util.h"
#include "config/profile.h"
#include "tuning/apply.h"
#include "tuning/cpu-policy.h"
#include "tuning/hotplug.h"
#include "tuning/plan.h"
#include "tuning/rollback.h"
#include "testlib.h"

#define SET(k, v) { .section = (char *) "cpu", .key = (char *) (k), .value = (char *) (v), \
                    .file = (char *) "profiles/test.conf", .line = 1 }
#define PROFILE(...) TL_PROFILE("test", __VA_ARGS__)
#define CPU "sys/devices/system/cpu/"

enum host { INTEL_PSTATE, ACPI_CPUFREQ, NO_CPUFREQ };


/* Idle states as intel_idle shows them: POLL 0 µs, C1 2, C1E 10, C6 133. */
static const long idle_latency[] = { 0, 2, 10, 133 };

static void make_cpu(const char *dir, int cpu, enum host host)
{
        char rel[256];

        snprintf(rel, sizeof(rel), "root/" CPU "cpu%d/topology/core_id", cpu);
        tl_write(dir, rel, "0\n");
        if (host == NO_CPUFREQ)
                return;         /* a VM: haltpoll's two states below, no EPB */
        snprintf(rel, sizeof(rel), "root/" CPU "cpu%d/power/energy_perf_bias", cpu);
        tl_write(dir, rel, "6\n");
        for (size_t s = 0; s < ARRAY_SIZE(idle_latency); s++) {
                char value[32];

                snprintf(rel, sizeof(rel), "root/" CPU "cpu%d/cpuidle/state%zu/latency", cpu, s);
                snprintf(value, sizeof(value), "%ld\n", idle_latency[s]);
                tl_write(dir, rel, value);
                snprintf(rel, sizeof(rel), "root/" CPU "cpu%d/cpuidle/state%zu/disable", cpu, s);
                tl_write(dir, rel, "0\n");
        }
}

static void make_policy(const char *dir, int policy, enum host host)
{
        char rel[256];

        snprintf(rel, sizeof(rel), "root/" CPU "cpufreq/policy%d/scaling_available_governors", policy);
        tl_write(dir, rel, host == INTEL_PSTATE ? "performance powersave\n"
                                                : "conservative ondemand userspace powersave performance schedutil\n");
        snprintf(rel, sizeof(rel), "root/" CPU "cpufreq/policy%d/scaling_governor", policy);
        tl_write(dir, rel, host == INTEL_PSTATE ? "powersave\n" : "schedutil\n");
        if (host != INTEL_PSTATE)
                return;
        snprintf(rel, sizeof(rel), "root/" CPU "cpufreq/policy%d/energy_performance_available_preferences", policy);
        tl_write(dir, rel, "default performance balance_performance balance_power power\n");
        snprintf(rel, sizeof(rel), "root/" CPU "cpufreq/policy%d/energy_performance_preference", policy);
        tl_write(dir, rel, "balance_performance\n");
}

static int setup_host(void **state, enum host host)
{
        struct tl_plan_fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-cpu");
        for (int cpu = 0; cpu < 2; cpu++) {
                make_cpu(f->dir, cpu, host);
                if (host != NO_CPUFREQ)
                        make_policy(f->dir, cpu, host);
        }
        if (host == INTEL_PSTATE) {
                tl_write(f->dir, "root/" CPU "intel_pstate/min_perf_pct", "23\n");
                tl_write(f->dir, "root/" CPU "intel_pstate/max_perf_pct", "100\n");
        }
        if (host == NO_CPUFREQ) {
                tl_write(f->dir, "root/" CPU "cpu0/cpuidle/state0/latency", "0\n");
                tl_write(f->dir, "root/" CPU "cpu0/cpuidle/state1/latency", "0\n");
        }
        tl_open_root_and_journal(f->dir, &f->root, &f->rb);
        *state = f;
        return 0;
}

static int setup_intel(void **state) { return setup_host(state, INTEL_PSTATE); }
static int setup_acpi(void **state) { return setup_host(state, ACPI_CPUFREQ); }
static int setup_vm(void **state) { return setup_host(state, NO_CPUFREQ); }

static void assert_target(const struct tl_plan_fixture *f, const char *key, const char *path, const char *value)
{
        const struct target *t = tl_find_target(f->targets, key);

        if (!t)
                fail_msg("no target %s", key);
        assert_string_equal(t->path, path);
        assert_string_equal(t->value, value);
}

/* --- values -------------------------------------------------------------- */

static void test_epb_takes_tuned_names_kernel_names_and_numbers(void **state)
{
        int v = -1;

        assert_int_equal(cpu_epb_parse("performance", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(cpu_epb_parse("normal", &v), 0);
        assert_int_equal(v, 6);
        assert_int_equal(cpu_epb_parse("powersave", &v), 0);
        assert_int_equal(v, 15);
        assert_int_equal(cpu_epb_parse("balance-power", &v), 0);
        assert_int_equal(v, 8);
        assert_int_equal(cpu_epb_parse("7", &v), 0);
        assert_int_equal(v, 7);
        assert_int_equal(cpu_epb_parse("16", &v), -EINVAL);
        assert_int_equal(cpu_epb_parse("fast", &v), -EINVAL);
        assert_int_equal(cpu_epb_parse("", &v), -EINVAL);
}

static void test_force_latency_parses_tuned_forms(void **state)
{
        struct latency_alt a[FORCE_LATENCY_ALTS_MAX];
        size_t n = 0;

        assert_int_equal(force_latency_parse("cstate.id_no_zero:3|70", a, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(a[0].kind, LATENCY_CSTATE_ID);
        assert_int_equal(a[0].value, 3);
        assert_true(a[0].no_zero);
        assert_int_equal(a[1].kind, LATENCY_US);
        assert_int_equal(a[1].value, 70);
        assert_int_equal(force_latency_parse("cstate.id:1", a, &n), 0);
        assert_int_equal(n, 1);
        assert_false(a[0].no_zero);
        assert_int_equal(force_latency_parse("3", a, &n), 0);
        assert_int_equal(a[0].kind, LATENCY_US);
        /* tuned's forms vmtuned does not carry, and malformed ones */
        assert_int_equal(force_latency_parse("cstate.name:C1", a, &n), -EINVAL);
        assert_int_equal(force_latency_parse("n/a", a, &n), -EINVAL);
        assert_int_equal(force_latency_parse("1|", a, &n), -EINVAL);
        assert_int_equal(force_latency_parse("", a, &n), -EINVAL);
        assert_int_equal(force_latency_parse("cstate.id:-1", a, &n), -EINVAL);
        assert_int_equal(force_latency_parse("1|2|3|4|5|6|7|8|9", a, &n), -EINVAL);
}

static long latency_table(long index, void *userdata)
{
        const long *t = userdata;

        return index >= 0 && index < 3 ? t[index] : -1;
}

static void test_force_latency_resolves_the_first_alternative_that_names_a_state(void **state)
{
        long haltpoll[] = { 0, 0, 0 }, intel[] = { 0, 2, 10 };
        struct latency_alt a[FORCE_LATENCY_ALTS_MAX];
        size_t n;
        long us = -1;

        assert_int_equal(force_latency_parse("cstate.id_no_zero:1|3", a, &n), 0);
        assert_int_equal(force_latency_resolve(a, n, latency_table, intel, &us), 0);
        assert_int_equal(us, 2);
        /* a state of latency 0 does not count for id_no_zero: the fallback */
        assert_int_equal(force_latency_resolve(a, n, latency_table, haltpoll, &us), 0);
        assert_int_equal(us, 3);
        assert_int_equal(force_latency_parse("cstate.id:1", a, &n), 0);
        assert_int_equal(force_latency_resolve(a, n, latency_table, haltpoll, &us), 0);
        assert_int_equal(us, 0);
        /* no such state, no fallback */
        assert_int_equal(force_latency_parse("cstate.id:7", a, &n), 0);
        assert_int_equal(force_latency_resolve(a, n, latency_table, intel, &us), -ENOENT);
        /* PM QoS keeps a state of exactly the limit */
        assert_false(cpu_idle_state_excluded(2, 2));
        assert_true(cpu_idle_state_excluded(3, 2));
}

/* --- plans --------------------------------------------------------------- */

static void test_intel_pstate_host_gets_every_cpu_key(void **state)
{
        struct tl_plan_fixture *f = *state;

        tl_plan(f, PROFILE(SET("governor", "schedutil|performance"), SET("energy_perf_bias", "performance"),
                        SET("energy_performance_preference", "performance"), SET("min_perf_pct", "100"),
                        SET("force_latency", "cstate.id_no_zero:1|3")));
        /* intel_pstate offers no schedutil: the fallback */
        assert_target(f, "cpu policy0 governor", CPU "cpufreq/policy0/scaling_governor", "performance");
        assert_target(f, "cpu policy1 governor", CPU "cpufreq/policy1/scaling_governor", "performance");
        assert_target(f, "cpu policy1 energy_performance_preference",
                      CPU "cpufreq/policy1/energy_performance_preference", "performance");
        assert_target(f, "cpu cpu1 energy_perf_bias", CPU "cpu1/power/energy_perf_bias", "0");
        assert_target(f, "cpu min_perf_pct", CPU "intel_pstate/min_perf_pct", "100");
        /* C1 (2 µs) is the limit: C1E and C6 off on both CPUs, POLL and C1 left alone */
        assert_target(f, "cpu cpu0 state2 force_latency", CPU "cpu0/cpuidle/state2/disable", "1");
        assert_target(f, "cpu cpu1 state3 force_latency", CPU "cpu1/cpuidle/state3/disable", "1");
        assert_null(tl_find_target(f->targets, "cpu cpu0 state1 force_latency"));
        assert_null(tl_find_target(f->targets, "cpu cpu0 state0 force_latency"));
        assert_int_equal(f->targets->n, 2 + 2 + 2 + 1 + 4);
        assert_int_equal(f->targets->n_notes, 0);
}

static void test_acpi_cpufreq_host_gets_the_governor_and_notes_the_rest(void **state)
{
        struct tl_plan_fixture *f = *state;
        struct apply_stats st;

        tl_plan(f, PROFILE(SET("governor", "performance"), SET("energy_performance_preference", "performance"),
                        SET("min_perf_pct", "100")));
        assert_target(f, "cpu policy0 governor", CPU "cpufreq/policy0/scaling_governor", "performance");
        assert_null(tl_find_target(f->targets, "cpu policy0 energy_performance_preference"));
        assert_true(tl_has_note(f->targets, "has no energy_performance_preference"));
        /* min_perf_pct is intel_pstate's: a note, as for the other [cpu]
         * keys the machine lacks, not a knob "not on this kernel" that
         * would make verify fail (the systemd lab's verify did) */
        assert_null(tl_find_target(f->targets, "cpu min_perf_pct"));
        assert_true(tl_has_note(f->targets, "[cpu] min_perf_pct: no intel_pstate on this machine"));
        assert_int_equal(settings_apply(&f->root, f->rb, f->targets, &st), 0);
        assert_int_equal(st.applied, 2);
        assert_int_equal(st.skipped, 0);
        tl_assert_value(f->root.path, CPU "cpufreq/policy1/scaling_governor", "performance");
}

static void test_vm_without_cpufreq_plans_nothing_and_says_why(void **state)
{
        struct tl_plan_fixture *f = *state;

        tl_plan(f, PROFILE(SET("governor", "performance"), SET("energy_perf_bias", "performance"),
                        SET("force_latency", "cstate.id_no_zero:1"), SET("max_perf_pct", "80")));
        assert_int_equal(f->targets->n, 0);
        assert_true(tl_has_note(f->targets, "[cpu] max_perf_pct: no intel_pstate on this machine"));
        assert_true(tl_has_note(f->targets, "no cpufreq on this machine"));
        assert_true(tl_has_note(f->targets, "no CPU offers cpuN/power/energy_perf_bias"));
        /* haltpoll's states have latency 0: id_no_zero resolves to nothing */
        assert_true(tl_has_note(f->targets, "names an idle state"));
}

static void test_cpu_values_come_back_after_restore_and_after_a_dead_owner(void **state)
{
        static const struct tl_file originals[] = {
                { CPU "cpufreq/policy0/scaling_governor", "powersave\n" },
                { CPU "cpufreq/policy1/energy_performance_preference", "balance_performance\n" },
                { CPU "cpu0/power/energy_perf_bias", "6\n" },
                { CPU "intel_pstate/min_perf_pct", "23\n" },
                { CPU "cpu0/cpuidle/state2/disable", "0\n" },
                { CPU "cpu1/cpuidle/state3/disable", "0\n" },
        };
        struct tl_plan_fixture *f = *state;
        struct rollback *again = NULL;
        struct apply_stats st;
        bool stale = false;

        tl_plan(f, PROFILE(SET("governor", "performance"), SET("energy_perf_bias", "performance"),
                        SET("energy_performance_preference", "performance"), SET("min_perf_pct", "100"),
                        SET("force_latency", "cstate.id:1")));
        assert_int_equal(settings_apply(&f->root, f->rb, f->targets, &st), 0);
        assert_int_equal(st.applied, f->targets->n);
        tl_assert_value(f->root.path, CPU "cpu1/cpuidle/state3/disable", "1");
        tl_assert_value(f->root.path, CPU "cpu1/power/energy_perf_bias", "0");

        /* kill -9: the next start finds the journal and restores it all */
        tl_journal_owner_died(f->rb);
        assert_int_equal(rollback_open(f->rb->dir, &again, &stale), 0);
        assert_true(stale);
        assert_int_equal(again->n_entries, st.applied);
        assert_int_equal(rollback_restore_all(again, &f->root), 0);
        tl_assert_originals(f->root.path, originals, ARRAY_SIZE(originals));
        rollback_free(again);
}

/* cpu1 offline at apply (never online since boot: no cpufreq policy yet,
 * its idle states and EPB absent) comes online: hot-plug gives it the
 * profile's values, journaled, and touches nothing of cpu0. It goes
 * offline again before the stop: its idle states vanish, and the restore
 * takes them for gone, without an error, and empties the journal. */
static void test_cpu_online_later_gets_the_profile_and_offline_is_no_error_at_restore(void **state)
{
        struct tl_plan_fixture *f = *state;
        const struct profile *p = PROFILE(SET("governor", "performance"), SET("energy_perf_bias", "performance"),
                                          SET("force_latency", "cstate.id:1"));
        struct hotplug *hp = NULL;
        struct target_list one = {};
        struct apply_stats st;
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/root/" CPU "cpu1/cpuidle", f->dir);
        tl_rm_rf(path);
        snprintf(path, sizeof(path), "%s/root/" CPU "cpu1/power", f->dir);
        tl_rm_rf(path);
        snprintf(path, sizeof(path), "%s/root/" CPU "cpufreq/policy1", f->dir);
        tl_rm_rf(path);
        tl_plan(f, p);
        assert_int_equal(settings_apply(&f->root, f->rb, f->targets, &st), 0);
        assert_int_equal(st.applied, 4); /* policy0, cpu0's EPB, cpu0's states 2 and 3 */
        assert_int_equal(f->rb->n_entries, 4);

        /* online: the kernel shows its policy, EPB and idle states */
        make_cpu(f->dir, 1, INTEL_PSTATE);
        make_policy(f->dir, 1, INTEL_PSTATE);
        tl_write(f->dir, "root/" CPU "cpufreq/policy1/related_cpus", "1\n");
        assert_int_equal(settings_plan_cpu(&f->root, p, "cpu1", &one), 0);
        assert_int_equal(one.n, 4);
        assert_int_equal(one.n_notes, 0);
        target_list_free(&one);
        assert_int_equal(settings_plan_cpu(&f->root, p, "cpu7", &one), -ENOENT);
        assert_int_equal(settings_plan_cpu(&f->root, p, "policy1", &one), -EINVAL);

        assert_int_equal(hotplug_new(NULL, &(struct hotplug_options){ .root = &f->root, .rollback = f->rb,
                                                                       .source = HOTPLUG_SOURCE_NONE }, &hp), 0);
        /* paused (off): nothing */
        assert_int_equal(hotplug_handle(hp, HOTPLUG_ONLINE, "cpu1"), 0);
        tl_assert_value(f->root.path, CPU "cpu1/cpuidle/state2/disable", "0");
        hotplug_set_profile(hp, p);
        assert_int_equal(hotplug_handle(hp, HOTPLUG_ONLINE, "cpu1"), 0);
        tl_assert_value(f->root.path, CPU "cpufreq/policy1/scaling_governor", "performance");
        tl_assert_value(f->root.path, CPU "cpu1/power/energy_perf_bias", "0");
        tl_assert_value(f->root.path, CPU "cpu1/cpuidle/state1/disable", "0");
        tl_assert_value(f->root.path, CPU "cpu1/cpuidle/state2/disable", "1");
        tl_assert_value(f->root.path, CPU "cpu1/cpuidle/state3/disable", "1");
        assert_int_equal(f->rb->n_entries, 8);
        assert_string_equal(rollback_find(f->rb, CPU "cpu1/cpuidle/state3/disable")->original, "0");
        assert_string_equal(rollback_find(f->rb, CPU "cpufreq/policy1/scaling_governor")->original, "powersave");

        /* offline: its idle states vanish with it */
        snprintf(path, sizeof(path), "%s/root/" CPU "cpu1/cpuidle", f->dir);
        tl_rm_rf(path);
        hotplug_set_profile(hp, NULL);
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 2); /* gone, not an error */
        assert_int_equal(f->rb->n_entries, 0);
        assert_false(tl_exists(f->dir, "run/rollback"));
        tl_assert_value(f->root.path, CPU "cpufreq/policy0/scaling_governor", "powersave");
        tl_assert_value(f->root.path, CPU "cpufreq/policy1/scaling_governor", "powersave");
        tl_assert_value(f->root.path, CPU "cpu0/cpuidle/state3/disable", "0");
        tl_assert_value(f->root.path, CPU "cpu1/power/energy_perf_bias", "6");
        hotplug_free(hp);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_epb_takes_tuned_names_kernel_names_and_numbers),
                cmocka_unit_test(test_force_latency_parses_tuned_forms),
                cmocka_unit_test(test_force_latency_resolves_the_first_alternative_that_names_a_state),
                cmocka_unit_test_setup_teardown(test_intel_pstate_host_gets_every_cpu_key, setup_intel,
                                                tl_plan_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_acpi_cpufreq_host_gets_the_governor_and_notes_the_rest,
                                                setup_acpi, tl_plan_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_vm_without_cpufreq_plans_nothing_and_says_why, setup_vm,
                                                tl_plan_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_cpu_online_later_gets_the_profile_and_offline_is_no_error_at_restore,
                                                setup_intel, tl_plan_fixture_teardown),
                cmocka_unit_test_setup_teardown(test_cpu_values_come_back_after_restore_and_after_a_dead_owner,
                                                setup_intel, tl_plan_fixture_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
