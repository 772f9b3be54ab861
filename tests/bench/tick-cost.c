/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one sampler tick costs with N VMs (issue 15: "a tick that scales
 * with VMs, not with the host"), on this machine.
 *
 *   tick-cost [N ...]          (default 10 100; `make sim` runs the default)
 *
 * Each VM is a real process of 4 threads (like a 2-vCPU QEMU: main, two
 * vCPUs, a worker) that sleeps. The sampler reads them under a temporary
 * root whose proc/PID entries link to the real /proc/PID and whose
 * proc/schedstat is this kernel's, or, where the kernel has none, a
 * stand-in with one line per CPU (its per-CPU lines cost the same to read
 * whatever they hold). Per source, the mean CPU time of 5 steady-state
 * ticks (CLOCK_THREAD_CPUTIME_ID), and the files and threads one tick read:
 *
 * - proc/schedstat: the CPUs from one file, then only the VMs' threads;
 * - every thread: the walk of all of proc/ that kernels without
 *   proc/schedstat need (it grows with the host, not with the VMs).
 *
 * Domain threads' schedstat files are kept open up to half of
 * RLIMIT_NOFILE (sample.c): above that the rest are opened each tick, so
 * `ulimit -n` shows in the figures for 1000 VMs. The first row pays one
 * symlink more per VM and tick than the daemon (proc/PID of the temporary
 * root leads to /proc/PID): an upper bound. */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include "balance/sample.h"
#include "balance/topology.h"
#include "base/kfile.h"
#include "base/util.h"
#include "virt/domain.h"

#define THREADS_PER_VM 4
#define TICKS 5

static void die(const char *what)
{
        perror(what);
        exit(1);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path);
}

static void *sleeper(void *arg)
{
        for (;;)
                pause();
        return NULL;
}

/* A child of THREADS_PER_VM sleeping threads; its pid. */
static pid_t spawn_vm(void)
{
        pid_t pid = fork();

        if (pid < 0)
                die("fork");
        if (pid == 0) {
                for (int i = 1; i < THREADS_PER_VM; i++) {
                        pthread_t t;

                        if (pthread_create(&t, NULL, sleeper, NULL) != 0)
                                _exit(1);
                }
                sleeper(NULL);
        }
        return pid;
}

static void link_to(const char *root, const char *rel, const char *target)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        if (symlink(target, path) < 0)
                die(path);
}

static double tick_ms(struct sampler *s, const struct kroot *root, const struct topology *topo,
                      const struct domain *doms, size_t n, struct sampler_stats *ret)
{
        uint64_t now = 1000000, total_ns = 0;

        for (int i = 0; i < TICKS + 2; i++) {
                struct timespec a, b;
                int r;

                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
                r = sampler_tick(s, root, topo, doms, n, now);
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
                if (r < 0) {
                        fprintf(stderr, "tick failed: %s\n", strerror(-r));
                        exit(1);
                }
                now += 1000000;
                if (i >= 2) /* the first two open what is kept */
                        total_ns += (uint64_t) ((b.tv_sec - a.tv_sec) * 1000000000 + (b.tv_nsec - a.tv_nsec));
        }
        sampler_get_stats(s, ret);
        return total_ns / 1e6 / TICKS;
}

static void run(unsigned n_vms)
{
        char dir[] = "/tmp/vmtuned-tick-cost.XXXXXX";
        char proc[64];
        struct domain *doms = xcalloc(n_vms, sizeof(*doms));
        struct topology *topo = NULL;
        struct sampler_stats st;
        struct kroot root;
        char rel[64], target[64];

        if (!mkdtemp(dir))
                die("mkdtemp");
        snprintf(proc, sizeof(proc), "%s/proc", dir);
        if (mkdir(proc, 0755) < 0)
                die(proc);
        link_to(dir, "sys", "/sys");
        if (access("/proc/schedstat", R_OK) == 0) {
                link_to(dir, "proc/schedstat", "/proc/schedstat");
        } else {
                char *text = xasprintf("version 15\ntimestamp 1\n"), path[128];
                FILE *f;

                for (long cpu = 0; cpu < sysconf(_SC_NPROCESSORS_CONF); cpu++) {
                        char *more = xasprintf("%scpu%ld 0 0 1 1 1 1 %ld %ld 1\ndomain0 00000003 0 0 0 0 0 0 0 0 "
                                               "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                                               text, cpu, cpu * 1000, cpu * 10);
                        free(text);
                        text = more;
                }
                snprintf(path, sizeof(path), "%s/proc/schedstat", dir);
                f = fopen(path, "w");
                if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                        die(path);
                free(text);
        }
        for (unsigned i = 0; i < n_vms; i++) {
                doms[i] = (struct domain){ .name = (char *) "vm", .id = (int) i + 1, .pid = spawn_vm(),
                                           .n_vcpus = 2, .memory_kib = 1 << 20, .movable = true };
                snprintf(rel, sizeof(rel), "proc/%d", (int) doms[i].pid);
                snprintf(target, sizeof(target), "/proc/%d", (int) doms[i].pid);
                link_to(dir, rel, target);
        }
        usleep(200 * 1000); /* every thread started */
        if (kroot_open(dir, false, &root) < 0 || topology_read(&root, &topo) < 0)
                die("root");

        {
                struct sampler *s = sampler_new(SAMPLER_SOURCE_SCHEDSTAT);
                double ms = tick_ms(s, &root, topo, doms, n_vms, &st);

                printf("%6u %-24s %9.3f %8zu %8zu\n", n_vms, "proc/schedstat + VMs", ms, st.files, st.threads);
                sampler_free(s);
        }
        {
                /* The real proc/ with every thread of the host, VMs included. */
                struct kroot real;
                struct sampler *s = sampler_new(SAMPLER_SOURCE_THREADS);
                double ms;

                if (kroot_open("/", false, &real) < 0)
                        die("/");
                ms = tick_ms(s, &real, topo, doms, n_vms, &st);
                printf("%6u %-24s %9.3f %8zu %8zu\n", n_vms, "every thread (no schedstat)", ms, st.files,
                       st.threads);
                sampler_free(s);
                kroot_close(&real);
        }
        for (unsigned i = 0; i < n_vms; i++) {
                kill(doms[i].pid, SIGKILL);
                waitpid(doms[i].pid, NULL, 0);
        }
        topology_free(topo);
        kroot_close(&root);
        (void) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(doms);
}

int main(int argc, char **argv)
{
        struct rlimit nofile = { 0 };

        (void) getrlimit(RLIMIT_NOFILE, &nofile);
        printf("# tick-cost: CPU time of one sampler tick with N sleeping 4-thread VMs, mean of %d ticks;"
               " RLIMIT_NOFILE %llu\n", TICKS, (unsigned long long) nofile.rlim_cur);
        printf("%6s %-24s %9s %8s %8s\n", "VMs", "source", "CPU ms", "files", "threads");
        if (argc < 2) {
                run(10);
                run(100);
        }
        for (int i = 1; i < argc; i++)
                run((unsigned) atoi(argv[i]));
        return 0;
}
