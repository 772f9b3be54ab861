/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): a CPU taken offline and
 * brought online again while vmtuned runs on this machine's real kernel.
 * The kernel re-registers the CPU's idle states enabled; vmtuned's
 * hot-plug path must disable them again as the profile says
 * (force_latency=cstate.id:0: every state with an exit latency above
 * state0's). Then a CPU offline at stop: its files are gone, the stop
 * is clean and the journal empties.
 *
 * Needs cpu1 with an online file and idle states (skipped otherwise).
 * For the few seconds of the test the CPUs poll when idle. cpu1 is put
 * online again and every idle state's disable file back, also when an
 * assertion fails. So is every cgroup v1 cpuset.cpus: the kernel drops an
 * offline CPU from every v1 cpuset and does not give it back when the CPU
 * returns (libvirt's machine/ cpuset would be left with cpu0 only). */
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

#define CPU "sys/devices/system/cpu/"
#define ONLINE CPU "cpu1/online"
#define STATES_MAX 16

static char *workdir;
static struct tl_daemon daemon_run;
/* The disable file of every idle state of cpu0 and cpu1, and its value. */
static struct {
        char rel[96];
        char original[16];
        long latency;
} states[2 * STATES_MAX];
static size_t n_states;

/* Every v1 cpuset.cpus under CPUSET_V1, parents before children (sorted
 * by depth): the order a wider set must be written back in. */
#define CPUSET_V1 "sys/fs/cgroup/cpuset"
static struct cpuset_saved {
        char *rel;
        char *cpus;
} *cpusets;
static size_t n_cpusets;

static void write_sys(const char *rel, const char *value)
{
        char path[160];
        FILE *f;

        snprintf(path, sizeof(path), "/%s", rel);
        f = fopen(path, "w");
        if (!f || fprintf(f, "%s\n", value) < 0 || fclose(f) != 0)
                fprintf(stderr, "host test: cannot write %s to %s: %m\n", value, path);
}

static char *value_of(const char *rel)
{
        char *s = tl_read("/", rel);

        if (s)
                s[strcspn(s, "\n")] = '\0';
        return s;
}

static bool is(const char *rel, const char *want)
{
        char *s = value_of(rel);
        bool eq = s && strcmp(s, want) == 0;

        free(s);
        return eq;
}

static int save_cpuset(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        struct cpuset_saved *c;

        if (type != FTW_F || strcmp(path + ftw->base, "cpuset.cpus") != 0)
                return 0;
        cpusets = realloc(cpusets, (n_cpusets + 1) * sizeof(*cpusets));
        if (!cpusets)
                abort();
        c = &cpusets[n_cpusets];
        c->rel = strdup(path + 1);
        c->cpus = value_of(c->rel);
        if (!c->rel)
                abort();
        if (c->cpus)
                n_cpusets++;
        else
                free(c->rel);
        return 0;
}

/* Write back every cpuset.cpus the CPU's offline narrowed; returns how
 * many still differ. */
static size_t put_cpusets_back(void)
{
        size_t differ = 0;

        for (size_t i = 0; i < n_cpusets; i++)
                if (!is(cpusets[i].rel, cpusets[i].cpus)) {
                        write_sys(cpusets[i].rel, cpusets[i].cpus);
                        differ += !is(cpusets[i].rel, cpusets[i].cpus);
                }
        return differ;
}

static size_t depth(const char *rel)
{
        size_t n = 0;

        for (; *rel; rel++)
                n += *rel == '/';
        return n;
}

static int by_depth(const void *a, const void *b)
{
        size_t da = depth(((const struct cpuset_saved *) a)->rel), db = depth(((const struct cpuset_saved *) b)->rel);

        return (da > db) - (da < db);
}

static void cleanup(void)
{
        if (daemon_run.pid > 0)
                (void) tl_daemon_stop(&daemon_run, SIGTERM);
        if (!is(ONLINE, "1")) {
                fprintf(stderr, "host test: putting cpu1 online again\n");
                write_sys(ONLINE, "1");
        }
        (void) put_cpusets_back();
        for (size_t i = 0; i < n_states; i++)
                if (!is(states[i].rel, states[i].original)) {
                        fprintf(stderr, "host test: putting %s back to %s\n", states[i].rel, states[i].original);
                        write_sys(states[i].rel, states[i].original);
                }
}

static int setup(void **state)
{
        if (!tl_running_as_root())
                return -1;
        if (!is(ONLINE, "1") || access("/" ONLINE, W_OK) < 0 || !tl_exists("/", CPU "cpu1/cpuidle/state1")) {
                fprintf(stderr, "SKIPPED: cpu1 cannot go offline here or has no idle states\n");
                return -1;
        }
        for (int cpu = 0; cpu < 2; cpu++)
                for (int s = 0; s < STATES_MAX; s++) {
                        char rel[96];
                        char *v, *lat;

                        snprintf(rel, sizeof(rel), CPU "cpu%d/cpuidle/state%d/latency", cpu, s);
                        lat = value_of(rel);
                        if (!lat)
                                break;
                        snprintf(states[n_states].rel, sizeof(states[n_states].rel),
                                 CPU "cpu%d/cpuidle/state%d/disable", cpu, s);
                        v = value_of(states[n_states].rel);
                        snprintf(states[n_states].original, sizeof(states[n_states].original), "%s", v ? v : "0");
                        states[n_states].latency = atol(lat);
                        free(v);
                        free(lat);
                        n_states++;
                }
        if (access("/" CPUSET_V1 "/cpuset.cpus", F_OK) == 0 &&
            nftw("/" CPUSET_V1, save_cpuset, 16, FTW_PHYS) != 0) {
                fprintf(stderr, "host test: cannot read the cpusets under /" CPUSET_V1 ": %m\n");
                return -1;
        }
        qsort(cpusets, n_cpusets, sizeof(*cpusets), by_depth);
        atexit(cleanup);
        workdir = tl_mkdtemp("vmtuned-cpu-online");
        tl_write(workdir, "profiles/idle.conf", "[main]\nsummary = no idle state but the shallowest\n"
                                                "[cpu]\nforce_latency = cstate.id:0\n");
        tl_write(workdir, "vmtuned.conf", "[vmtuned]\nprofile = idle\nlibvirt_uri = test:///default\n"
                                          "[balancer]\nenabled = no\nkernel_numa_balancing = keep\n");
        return 0;
}

static int teardown(void **state)
{
        cleanup();
        tl_daemon_free(&daemon_run);
        tl_rm_rf(workdir);
        free(workdir);
        return 0;
}

static void start_daemon(void)
{
        tl_daemon_free(&daemon_run);
        tl_assert_daemon_starts(&daemon_run, tl_host_argv(workdir, NULL, NULL));
}

static double now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Every idle state of cpu (0, 1) deeper than state0 is disabled (want "1")
 * or as it was before the test (want NULL). */
static bool cpu_states_are(int cpu, const char *want)
{
        char prefix[32];

        snprintf(prefix, sizeof(prefix), CPU "cpu%d/", cpu);
        for (size_t i = 0; i < n_states; i++)
                if (strncmp(states[i].rel, prefix, strlen(prefix)) == 0 && states[i].latency > states[0].latency &&
                    !is(states[i].rel, want ? want : states[i].original))
                        return false;
        return true;
}

static void set_cpu1_online(const char *v)
{
        double t0 = now_sec();

        write_sys(ONLINE, v);
        if (!is(ONLINE, v))
                fail_msg("cpu1/online does not read %s after writing it", v);
        fprintf(stderr, "  cpu1 %s (%.2f s)\n", v[0] == '1' ? "online" : "offline", now_sec() - t0);
}

static void test_cpu_online_again_gets_the_profile_and_offline_at_stop_is_clean(void **state)
{
        char *err;
        double t0;

        start_daemon();
        assert_true(cpu_states_are(0, "1"));
        assert_true(cpu_states_are(1, "1"));

        set_cpu1_online("0");
        assert_false(tl_exists("/", CPU "cpu1/cpuidle/state1"));
        set_cpu1_online("1");
        t0 = now_sec();
        while (!cpu_states_are(1, "1") && now_sec() - t0 < 10)
                usleep(20000);
        if (!cpu_states_are(1, "1")) {
                err = tl_daemon_stderr(&daemon_run);
                fail_msg("cpu1's idle states are enabled 10 s after it came online; vmtuned's log:\n%s", err);
        }
        fprintf(stderr, "  cpu1's idle states disabled again %.3f s after it came online\n", now_sec() - t0);
        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
        assert_true(cpu_states_are(0, NULL));
        assert_true(cpu_states_are(1, NULL));
        assert_false(tl_exists(workdir, "run/rollback"));
        err = tl_daemon_stderr(&daemon_run);
        assert_non_null(strstr(err, "cpu1 came online: "));
        free(err);

        /* offline at stop: its files are gone, and that is no error */
        start_daemon();
        set_cpu1_online("0");
        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
        assert_true(cpu_states_are(0, NULL));
        assert_false(tl_exists(workdir, "run/rollback"));
        err = tl_daemon_stderr(&daemon_run);
        assert_null(strstr(err, "[err"));
        assert_non_null(strstr(err, "no longer offered by this kernel"));
        free(err);
        set_cpu1_online("1");
        assert_true(cpu_states_are(1, NULL)); /* the kernel's own: enabled */
        /* The v1 cpusets lost cpu1 with it; the test gives it back. */
        assert_int_equal(put_cpusets_back(), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cpu_online_again_gets_the_profile_and_offline_at_stop_is_clean),
        };
        return cmocka_run_group_tests_name("a CPU offline and online again on the real kernel", tests, setup,
                                           teardown);
}
