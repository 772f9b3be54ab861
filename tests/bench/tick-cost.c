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
 * root leads to /proc/PID): an upper bound.
 *
 *   tick-cost --fixture DIR N [PREFIX [PID0]]
 *
 * writes the same synthetic VMs as files instead, for a daemon run with
 * --root DIR (the memory benches of tests/bench/idle-cost and soak): a
 * libvirt test-driver node file DIR/PREFIX.xml of N running domains
 * PREFIX-0.. (URI test://DIR/PREFIX.xml) and, below DIR, each one's PID
 * file and proc/PID files (cgroup, numa_maps, 4 threads' comm, status,
 * schedstat, stat), on a two-node kernel with proc/schedstat, so that the
 * balancer ticks and samples them. PIDs from PID0 (default 100000). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

/* Write DIR/rel (parents made); exits on failure. */
static void put(const char *dir, const char *rel, const char *text)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
        FILE *f;

        for (char *slash = strchr(path + strlen(dir) + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = 0;
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        die(path);
                *slash = '/';
        }
        f = fopen(path, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                die(path);
}

#define PUT(dir, text, ...)                                                  \
        do {                                                                 \
                _cleanup_free_ char *_rel = xasprintf(__VA_ARGS__);          \
                put(dir, _rel, text);                                        \
        } while (0)

static void write_fixture(const char *dir, unsigned n_vms, const char *prefix, int pid0)
{
        static const char *const comms[THREADS_PER_VM] = { "qemu-system-x86", "CPU 0/KVM", "CPU 1/KVM", "worker" };
        _cleanup_free_ char *xml_rel = xasprintf("%s.xml", prefix);
        _cleanup_free_ char *xml_path = xasprintf("%s/%s", dir, xml_rel);
        FILE *xml;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                die(dir);
        put(dir, "sys/devices/system/node/online", "0-1\n");
        for (int node = 0; node < 2; node++) {
                _cleanup_free_ char *meminfo =
                        xasprintf("Node %d MemTotal: 4194304 kB\nNode %d MemFree: 2097152 kB\n", node, node);

                PUT(dir, node ? "2-3\n" : "0-1\n", "sys/devices/system/node/node%d/cpulist", node);
                PUT(dir, node ? "20 10\n" : "10 20\n", "sys/devices/system/node/node%d/distance", node);
                PUT(dir, meminfo, "sys/devices/system/node/node%d/meminfo", node);
        }
        put(dir, "proc/schedstat", "version 15\ntimestamp 1\ncpu0 0 0 0 0 0 0 1000 500 10\ncpu1 0 0 0 0 0 0 1000 500 10\n"
                                   "cpu2 0 0 0 0 0 0 1000 500 10\ncpu3 0 0 0 0 0 0 1000 500 10\n");
        put(dir, "proc/self/mountinfo", "26 1 0:24 / /sys/fs/cgroup rw shared:4 - cgroup2 cgroup2 rw\n");
        xml = fopen(xml_path, "w");
        if (!xml)
                die(xml_path);
        fputs("<node>\n", xml);
        for (unsigned i = 0; i < n_vms; i++) {
                int pid = pid0 + (int) i * (THREADS_PER_VM + 1);
                _cleanup_free_ char *pidtext = xasprintf("%d\n", pid);
                _cleanup_free_ char *cgroup =
                        xasprintf("0::/machine.slice/machine-qemu\\x2d%u\\x2d%s\\x2d%u.scope/libvirt/emulator\n",
                                  i + 1, prefix, i);

                fprintf(xml, "<domain type='test'><name>%s-%u</name><memory unit='MiB'>1024</memory>"
                             "<vcpu>2</vcpu><os><type>hvm</type></os></domain>\n", prefix, i);
                PUT(dir, pidtext, "run/libvirt/qemu/%s-%u.pid", prefix, i);
                PUT(dir, cgroup, "proc/%d/cgroup", pid);
                PUT(dir, "7f0000000000 default anon=256 dirty=256 N0=256 kernelpagesize_kB=4\n", "proc/%d/numa_maps", pid);
                for (int t = 0; t < THREADS_PER_VM; t++) {
                        _cleanup_free_ char *comm = xasprintf("%s\n", comms[t]);
                        _cleanup_free_ char *status =
                                xasprintf("Name:\t%s\nCpus_allowed:\tf\nCpus_allowed_list:\t0-3\n", comms[t]);
                        _cleanup_free_ char *stat = xasprintf("%d (qemu) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0 "
                                                              "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0\n",
                                                              pid + t);

                        PUT(dir, comm, "proc/%d/task/%d/comm", pid, pid + t);
                        PUT(dir, status, "proc/%d/task/%d/status", pid, pid + t);
                        PUT(dir, "1000000 500000 10\n", "proc/%d/task/%d/schedstat", pid, pid + t);
                        PUT(dir, stat, "proc/%d/task/%d/stat", pid, pid + t);
                }
        }
        fputs("</node>\n", xml);
        if (fclose(xml) != 0)
                die(xml_path);
}

int main(int argc, char **argv)
{
        struct rlimit nofile = { 0 };

        if (argc >= 4 && streq(argv[1], "--fixture")) {
                write_fixture(argv[2], (unsigned) atoi(argv[3]), argc > 4 ? argv[4] : "vm",
                              argc > 5 ? atoi(argv[5]) : 100000);
                return 0;
        }
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
