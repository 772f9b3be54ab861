/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What one sampler tick costs with N VMs (issue 15: "a tick that scales
 * with VMs, not with the host"), on this machine.
 *
 *   tick-cost [N ...]          (default 10 100; `make sim` runs the default)
 *
 * Each VM is a real process of 4 threads (like a 2-vCPU QEMU: main, two
 * vCPUs, a worker) that sleeps. The sampler reads them in the real /proc
 * (a kernel without proc/schedstat gets no schedstat row: a fixture root
 * can no longer link into /proc since kernel files are opened beneath the
 * root). Per source, the mean CPU time of 5 steady-state
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

/* Both rows read the real /proc: kernel files are opened beneath the root
 * (openat2 RESOLVE_BENEATH), so a fixture root can no longer link into
 * /proc, and a kernel without proc/schedstat gets no schedstat row (the
 * figures of such a row in tests/bench/results/idle-2026-12-04.txt were
 * taken before, with a fixture linking to /proc). */
static void run(unsigned n_vms)
{
        struct domain *doms = xcalloc(n_vms, sizeof(*doms));
        struct topology *topo = NULL;
        struct sampler_stats st;
        struct kroot root;

        for (unsigned i = 0; i < n_vms; i++)
                doms[i] = (struct domain){ .name = (char *) "vm", .id = (int) i + 1, .pid = spawn_vm(),
                                           .n_vcpus = 2, .memory_kib = 1 << 20, .movable = true };
        usleep(200 * 1000); /* every thread started */
        if (kroot_open("/", false, &root) < 0 || topology_read(&root, &topo) < 0)
                die("/");

        if (access("/proc/schedstat", R_OK) == 0) {
                struct sampler *s = sampler_new(SAMPLER_SOURCE_SCHEDSTAT);
                double ms = tick_ms(s, &root, topo, doms, n_vms, &st);

                printf("%6u %-24s %9.3f %8zu %8zu\n", n_vms, "proc/schedstat + VMs", ms, st.files, st.threads);
                sampler_free(s);
        } else
                printf("%6u %-24s %9s\n", n_vms, "proc/schedstat + VMs", "skipped: no proc/schedstat here");
        {
                /* The real proc/ with every thread of the host, VMs included. */
                struct sampler *s = sampler_new(SAMPLER_SOURCE_THREADS);
                double ms = tick_ms(s, &root, topo, doms, n_vms, &st);

                printf("%6u %-24s %9.3f %8zu %8zu\n", n_vms, "every thread (no schedstat)", ms, st.files,
                       st.threads);
                sampler_free(s);
        }
        for (unsigned i = 0; i < n_vms; i++) {
                kill(doms[i].pid, SIGKILL);
                waitpid(doms[i].pid, NULL, 0);
        }
        topology_free(topo);
        kroot_close(&root);
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
