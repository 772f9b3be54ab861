/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): the domain table against real
 * libvirtd and three real QEMU (TCG) domains. What vmtunectl domains says is
 * checked against what the kernel says (pids, vCPU thread ids, cgroups,
 * Cpus_allowed_list); a stopped domain's row goes at once; a kill -9 and
 * restart of libvirtd is survived without restarting vmtuned. Every domain
 * and daemon it starts is stopped again, also when an assertion fails. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

static char *workdir;
static struct tl_daemon daemon_run;

static void cleanup(void)
{
        if (daemon_run.pid > 0)
                (void) tl_daemon_stop(&daemon_run, SIGTERM);
        free(tl_vm(NULL, "libvirtd-down", NULL));
}

static char *ctl(const char *cmd, bool json)
{
        char run[512], *out = NULL;

        snprintf(run, sizeof(run), "%s/run", workdir);
        if (tl_vmtunectl(run, &out, json ? "--json" : cmd, json ? cmd : NULL, NULL) != 0)
                fail_msg("vmtunectl %s failed: %s\nvmtuned's log:\n%s", cmd, out, tl_daemon_stderr(&daemon_run));
        return out;
}

/* The JSON line of one domain in `vmtunectl --json domains` (one a line). */
static char *domain_line(const char *json, const char *name)
{
        char key[128];
        const char *start, *end;

        snprintf(key, sizeof(key), "{\"name\":\"%s\"", name);
        start = strstr(json, key);
        if (!start)
                return NULL;
        end = strchr(start, '\n');
        return strndup(start, end ? (size_t) (end - start) : strlen(start));
}

static long json_long(const char *line, const char *key)
{
        char k[64];
        const char *p;

        snprintf(k, sizeof(k), "\"%s\":", key);
        p = strstr(line, k);
        assert_non_null(p);
        return atol(p + strlen(k));
}

/* "0-1,3" (up to a '"' or new line) as a mask of the first 64 CPUs. */
static unsigned long long cpulist_mask(const char *s)
{
        unsigned long long mask = 0;
        char *end;

        while (*s == ' ' || *s == '\t')
                s++;
        while (*s >= '0' && *s <= '9') {
                long a = strtol(s, &end, 10), b = a;

                if (*end == '-')
                        b = strtol(end + 1, &end, 10);
                for (long c = a; c <= b && c < 64; c++)
                        mask |= 1ULL << c;
                s = *end == ',' ? end + 1 : end;
        }
        return mask;
}

static int setup(void **state)
{
        char profiles[600];
        int code;
        char *out;

        if (!tl_running_as_root())
                return -1;
        atexit(cleanup);
        workdir = tl_mkdtemp("vmtuned-domains");
        snprintf(profiles, sizeof(profiles), "%s/profiles", workdir);
        /* No host settings: this suite is about domains. */
        tl_write(profiles, "none.conf", "[main]\nsummary = nothing\n");
        tl_write(workdir, "vmtuned.conf",
                 "[vmtuned]\nprofile = none\nlibvirt_uri = qemu:///system\n"
                 "[balancer]\nenabled = no\nkernel_numa_balancing = keep\n");
        out = tl_vm(&code, "build-guest", NULL);
        free(out);
        if (code != 0)
                return -1;
        out = tl_vm(&code, "libvirtd-up", NULL);
        if (code != 0) {
                fprintf(stderr, "libvirtd-up: %s\n", out);
                free(out);
                return -1;
        }
        free(out);
        free(tl_vm(&code, "create", "vmt-dom-a", "--vcpus", "1", NULL));
        free(tl_vm(&code, "create", "vmt-dom-b", "--vcpus", "2", "--burn", NULL));
        free(tl_vm(&code, "create", "vmt-dom-c", "--vcpus", "2", "--vcpupin", "--wait-boot", NULL));
        return code == 0 ? 0 : -1;
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

/* Poll vmtunectl until pred holds (libvirt events and reconnects are
 * asynchronous); the time it took is reported, never asserted. */
static char *wait_domains(bool (*pred)(const char *json), int seconds)
{
        char *json = NULL;

        for (int i = 0; i < seconds * 10; i++) {
                free(json);
                json = ctl("domains", true);
                if (pred(json)) {
                        fprintf(stderr, "  (after %.1f s)\n", i / 10.0);
                        return json;
                }
                usleep(100000);
        }
        fail_msg("timed out; last table:\n%s", json);
        return NULL;
}

static bool has_three(const char *json)
{
        return strstr(json, "\"vmt-dom-a\"") && strstr(json, "\"vmt-dom-b\"") && strstr(json, "\"vmt-dom-c\"") &&
               !strstr(json, "\"pid\":0");
}

static bool b_gone(const char *json) { return !strstr(json, "\"vmt-dom-b\""); }

static bool has_a_and_c(const char *json)
{
        return strstr(json, "\"vmt-dom-a\"") && strstr(json, "\"vmt-dom-c\"");
}

/* The row agrees with the kernel: pid, every vCPU thread, the cpuset cgroup,
 * the CPUs the vCPU threads may run on. */
static void check_against_kernel(const char *json, const char *name)
{
        char *line = domain_line(json, name), *pid_s, *tids, *cg, want[512], status_rel[128], *status;
        const char *p;
        long pid;

        assert_non_null(line);
        pid_s = tl_vm(NULL, "pid", name, NULL);
        pid = json_long(line, "pid");
        if (pid != atol(pid_s))
                fail_msg("%s: vmtunectl says pid %ld, the kernel %s", name, pid, pid_s);

        tids = tl_vm(NULL, "vcpu-tids", name, NULL);
        p = tids;
        for (int vcpu = 0; p && *p; vcpu++) {
                snprintf(want, sizeof(want), "{\"vcpu\":%d,\"tid\":%ld}", vcpu, atol(p));
                if (!strstr(line, want))
                        fail_msg("%s: no %s in %s", name, want, line);
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }

        cg = tl_vm(NULL, "cgroup", name, "cpuset", NULL);
        snprintf(want, sizeof(want), "\"cgroup_cpuset\":\"%s\"", cg + 1); /* relative to / */
        if (!strstr(line, want))
                fail_msg("%s: want %s in %s", name, want, line);

        /* "cpus" is the union of the vCPU threads' Cpus_allowed_list. */
        unsigned long long kernel_mask = 0;
        for (p = tids; p && *p;) {
                const char *list;

                snprintf(status_rel, sizeof(status_rel), "proc/%ld/task/%ld/status", pid, atol(p));
                status = tl_read("/", status_rel);
                assert_non_null(status);
                list = strstr(status, "Cpus_allowed_list:");
                assert_non_null(list);
                kernel_mask |= cpulist_mask(list + strlen("Cpus_allowed_list:"));
                free(status);
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }
        p = strstr(line, "\"cpus\":\"");
        assert_non_null(p);
        if (cpulist_mask(p + strlen("\"cpus\":\"")) != kernel_mask)
                fail_msg("%s: row says %.20s, the kernel's vCPU threads allow mask %#llx", name, p, kernel_mask);
        fprintf(stderr, "  %s: pid %ld, vCPU threads allowed on CPU mask %#llx\n", name, pid, kernel_mask);
        free(cg);
        free(tids);
        free(pid_s);
        free(line);
}

static void test_domains_match_the_kernel_and_follow_lifecycle_and_libvirtd_restart(void **state)
{
        char *json, *line, *text;

        start_daemon();
        json = wait_domains(has_three, 60);
        check_against_kernel(json, "vmt-dom-a");
        check_against_kernel(json, "vmt-dom-b");
        check_against_kernel(json, "vmt-dom-c");
        line = domain_line(json, "vmt-dom-a");
        assert_non_null(strstr(line, "\"movable\":true"));
        free(line);
        line = domain_line(json, "vmt-dom-c");
        assert_non_null(strstr(line, "\"movable\":false"));
        assert_non_null(strstr(line, "vcpupin"));
        free(line);
        free(json);

        text = ctl("domains", false);
        fprintf(stderr, "%s", text);
        assert_non_null(strstr(text, "vmt-dom-b"));
        free(text);

        fprintf(stderr, "destroying vmt-dom-b\n");
        free(tl_vm(NULL, "destroy", "vmt-dom-b", NULL));
        free(wait_domains(b_gone, 30));

        fprintf(stderr, "kill -9 libvirtd and start it again\n");
        int code;
        char *out = tl_vm(&code, "libvirtd-restart", NULL);
        if (code != 0 && strstr(out, "not started by"))
                /* Someone else's libvirtd (a host that runs one): never kill it. */
                fprintf(stderr, "SKIPPED the restart check: %s\n", out);
        else if (code != 0)
                fail_msg("tests/vm/vm libvirtd-restart failed (%d): %s", code, out);
        free(out);
        json = wait_domains(has_a_and_c, 90);
        check_against_kernel(json, "vmt-dom-a");
        check_against_kernel(json, "vmt-dom-c");
        free(json);
        assert_true(daemon_run.pid > 0 && kill(daemon_run.pid, 0) == 0); /* never restarted */

        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
        text = tl_daemon_stderr(&daemon_run);
        assert_non_null(strstr(text, "vmt-dom-b"));
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_domains_match_the_kernel_and_follow_lifecycle_and_libvirtd_restart),
        };
        return cmocka_run_group_tests_name("domain table on real libvirtd + QEMU", tests, setup, teardown);
}
