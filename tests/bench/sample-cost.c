/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What sampling costs on this machine, and whether each source of load is
 * right: the figures behind src/sample.c's choices, kept in
 * tests/bench/results/sample-cost-<date>.txt.
 *
 *   sample-cost [--threads N] [--mib N]
 *
 * 1. Is run_delay there without CONFIG_SCHEDSTATS? Two busy threads pinned
 *    to one CPU: each should read 1.0 runnable (run + wait over the window);
 *    /proc/stat busy time can only say 1.0 for the CPU, procs_running and
 *    state 'R' are instants.
 * 2. The cost of each load source with the host's threads plus N sleeping
 *    ones (default 1000): the sampler's own tick (per-thread schedstat, stat
 *    only for threads that ran), a stat read for every thread ('R' scan),
 *    /proc/stat, /proc/schedstat where the kernel has it; and whether a
 *    steady-state tick allocates.
 * 3. Memory per node of a process with N MiB (default 128) of anonymous
 *    memory in its own memory cgroup, in 4 KiB and in 2 MiB pages:
 *    proc/PID/numa_maps against the cgroup's memory.numa_stat.
 * Needs root for 3 (a cgroup); says so and skips it otherwise. Runs in a
 * few seconds: `make sim` runs every bench program. */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/kfile.h"
#include "base/procparse.h"
#include "balance/sample.h"
#include "balance/topology.h"
#include "base/util.h"

/* --- counting allocations ------------------------------------------------- */

/* The bench program's malloc family wraps glibc's, so it can tell whether a
 * steady-state tick allocates. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static atomic_long allocations;

void *malloc(size_t n)
{
        allocations++;
        return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
        allocations++;
        return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
        allocations++;
        return __libc_realloc(p, n);
}

void *reallocarray(void *p, size_t n, size_t size)
{
        if (size && n > SIZE_MAX / size) {
                errno = ENOMEM;
                return NULL;
        }
        return realloc(p, n * size);
}

/* --- helpers ----------------------------------------------------------- */

static double now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* CPU time of this thread: what a read costs the host, whatever else
 * runs (wall time on a busy 2-CPU machine is mostly waiting). */
static double cpu_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static char *slurp(const char *path)
{
        static char buf[1 << 20];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return NULL;
        while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
                len += (size_t) n;
        close(fd);
        buf[len] = '\0';
        return buf;
}

static bool task_counters(pid_t tid, struct sample_counters *ret)
{
        char path[64];
        const char *buf;

        snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", (int) tid);
        buf = slurp(path);
        return buf && sample_parse_task_schedstat(buf, ret) == 0;
}

/* /proc/stat: busy and total USER_HZ ticks of one CPU; "procs_running N". */
static void proc_stat(unsigned cpu, uint64_t *ret_busy, uint64_t *ret_total, long *ret_running)
{
        char key[32];
        const char *buf = slurp("/proc/stat"), *line;
        uint64_t f[10] = { 0 };

        snprintf(key, sizeof(key), "\ncpu%u ", cpu);
        line = buf ? strstr(buf, key) : NULL;
        if (line)
                sscanf(line + strlen(key), "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                       " %" SCNu64 " %" SCNu64, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]);
        /* user nice system idle iowait irq softirq steal: idle and iowait are not busy. */
        *ret_busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
        *ret_total = *ret_busy + f[3] + f[4];
        line = buf ? strstr(buf, "procs_running ") : NULL;
        *ret_running = line ? strtol(line + strlen("procs_running "), NULL, 10) : -1;
}

/* --- 1. is run_delay populated? ------------------------------------------ */

static atomic_bool stop_busy;
static pid_t busy_tids[2];

static void *busy(void *arg)
{
        busy_tids[(intptr_t) arg] = gettid();
        /* Ahead of other guests on a shared machine, so the two mostly
         * wait for each other: a thread's wait is charged when it next
         * runs, and long waits for others blur a 1 s window (see the
         * results file). Without root this fails and the test still runs. */
        (void) setpriority(PRIO_PROCESS, (id_t) gettid(), -10);
        while (!stop_busy)
                ;
        return NULL;
}

static void check_run_delay(unsigned cpu)
{
        struct sample_counters a[2], b[2];
        uint64_t busy0, total0, busy1, total1;
        pthread_t t[2];
        long running, r_sum = 0, running_sum = 0;
        double t0, t1, sum = 0;
        cpu_set_t set;
        int samples = 0;

        printf("\n== 1. run + wait of two busy threads pinned to CPU %u, 1 s\n", cpu);
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        for (intptr_t i = 0; i < 2; i++) {
                pthread_create(&t[i], NULL, busy, (void *) i);
                pthread_setaffinity_np(t[i], sizeof(set), &set);
        }
        usleep(50000);
        t0 = now_sec();
        task_counters(busy_tids[0], &a[0]);
        task_counters(busy_tids[1], &a[1]);
        proc_stat(cpu, &busy0, &total0, &running);
        for (; now_sec() - t0 < 1.0; samples++) {
                /* Instants: procs_running and state 'R' of the two. */
                char path[64], st;
                unsigned last;

                proc_stat(cpu, &busy1, &total1, &running);
                running_sum += running;
                for (int i = 0; i < 2; i++) {
                        snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int) busy_tids[i]);
                        if (sample_parse_task_stat(slurp(path), &st, &last) == 0 && st == 'R')
                                r_sum++;
                }
                usleep(50000);
        }
        task_counters(busy_tids[0], &b[0]);
        task_counters(busy_tids[1], &b[1]);
        t1 = now_sec();
        proc_stat(cpu, &busy1, &total1, &running);
        stop_busy = true;
        pthread_join(t[0], NULL);
        pthread_join(t[1], NULL);
        for (int i = 0; i < 2; i++) {
                double run = (double) (b[i].run_ns - a[i].run_ns) / 1e9, wait = (double) (b[i].wait_ns - a[i].wait_ns) / 1e9;

                printf("thread %d: run %.3f s, wait %.3f s over %.3f s: %.2f runnable\n", i, run, wait, t1 - t0,
                       (run + wait) / (t1 - t0));
                sum += (run + wait) / (t1 - t0);
        }
        printf("per-thread schedstat: CPU %u had %.2f runnable on average (truth: 2)\n", cpu, sum);
        printf("/proc/stat busy time: CPU %u %.2f busy (saturates at 1 per CPU)\n", cpu,
               total1 > total0 ? (double) (busy1 - busy0) / (double) (total1 - total0) : 0.0);
        printf("procs_running (host-wide instant, %d samples): mean %.2f\n", samples,
               samples ? (double) running_sum / samples : 0.0);
        printf("state 'R' of the two (instants, %d samples): mean %.2f\n", samples,
               samples ? (double) r_sum / samples : 0.0);
}

/* --- 2. the cost of each load source ---------------------------------------- */

static void *sleeper(void *arg)
{
        pause();
        return arg;
}

/* Read every thread's stat (the 'R'-state scan); returns threads seen. */
static long scan_stat(void)
{
        DIR *proc = opendir("/proc");
        struct dirent *de;
        long n = 0;

        while (proc && (de = readdir(proc))) {
                char path[600];
                DIR *task;
                struct dirent *te;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/task", de->d_name);
                task = opendir(path);
                while (task && (te = readdir(task))) {
                        char state;
                        unsigned cpu;

                        if (te->d_name[0] < '1' || te->d_name[0] > '9')
                                continue;
                        snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", de->d_name, te->d_name);
                        const char *buf = slurp(path);
                        if (buf && sample_parse_task_stat(buf, &state, &cpu) == 0)
                                n++;
                }
                if (task)
                        closedir(task);
        }
        if (proc)
                closedir(proc);
        return n;
}

/* The alternative to opening each file every tick: keep one fd per thread
 * and pread() it. Measured on this process's own threads. */
static void measure_kept_fds(void)
{
        static int fds[8192];
        DIR *task = opendir("/proc/self/task");
        struct dirent *de;
        char buf[256], path[300];
        double t0, open_us, pread_us;
        int n = 0;
        const int reps = 5;

        while (task && (de = readdir(task)) && n < (int) ARRAY_SIZE(fds)) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", de->d_name);
                fds[n] = open(path, O_RDONLY | O_CLOEXEC);
                if (fds[n] >= 0)
                        n++;
                else if (errno == EMFILE)
                        break;
        }
        if (task)
                closedir(task);
        if (n == 0)
                return;
        t0 = cpu_sec();
        for (int r = 0; r < reps; r++)
                for (int i = 0; i < n; i++)
                        if (pread(fds[i], buf, sizeof(buf), 0) < 0)
                                break;
        pread_us = (cpu_sec() - t0) * 1e6 / (reps * n);
        t0 = cpu_sec();
        for (int r = 0; r < reps; r++)
                for (int i = 0; i < n; i++) {
                        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
                        int fd = open(path, O_RDONLY | O_CLOEXEC);

                        if (fd >= 0) {
                                if (read(fd, buf, sizeof(buf)) < 0)
                                        buf[0] = '\0';
                                close(fd);
                        }
                }
        open_us = (cpu_sec() - t0) * 1e6 / (reps * n);
        printf("one schedstat, %d threads: open+read+close %.2f us, pread on a kept fd %.2f us (1 fd per thread)\n",
               n, open_us, pread_us);
        for (int i = 0; i < n; i++)
                close(fds[i]);
}

static void measure_sources(const struct kroot *root, const struct topology *topo, int extra)
{
        struct sampler *s = sampler_new(SAMPLER_SOURCE_THREADS);
        struct sampler_stats st;
        pthread_attr_t attr;
        pthread_t t;
        double t0, w0, tick_ms, wall_ms, stat_ms, procstat_ms;
        long n_stat = 0, allocs;
        uint64_t usec = 1;
        const int reps = 5;

        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (int i = 0; i < extra; i++)
                if (pthread_create(&t, &attr, sleeper, NULL) != 0)
                        break;
        usleep(100000);
        printf("\n== 2. cost per tick with the host's threads + %d sleeping ones (mean of %d)\n", extra, reps);
        sampler_tick(s, root, topo, NULL, 0, usec++);  /* baseline: tables grow here */
        sampler_tick(s, root, topo, NULL, 0, usec++);
        allocations = 0;
        t0 = cpu_sec();
        w0 = now_sec();
        for (int i = 0; i < reps; i++)
                sampler_tick(s, root, topo, NULL, 0, usec++);
        tick_ms = (cpu_sec() - t0) * 1e3 / reps;
        wall_ms = (now_sec() - w0) * 1e3 / reps;
        allocs = allocations;
        sampler_get_stats(s, &st);
        printf("%-44s %8s %8s %7s %6s %9s\n", "source (CPU time of the reading thread)", "CPU ms", "wall ms", "threads",
               "files", "us/thread");
        printf("%-44s %8.2f %8.2f %7zu %6zu %9.2f\n", "sampler_tick: schedstat (+stat if it ran)", tick_ms, wall_ms,
               st.threads, st.files, tick_ms * 1e3 / (double) st.threads);
        t0 = cpu_sec();
        w0 = now_sec();
        for (int i = 0; i < reps; i++)
                n_stat = scan_stat();
        stat_ms = (cpu_sec() - t0) * 1e3 / reps;
        wall_ms = (now_sec() - w0) * 1e3 / reps;
        printf("%-44s %8.2f %8.2f %7ld %6ld %9.2f\n", "stat of every thread ('R' scan, an instant)", stat_ms, wall_ms,
               n_stat, n_stat, stat_ms * 1e3 / (double) n_stat);
        t0 = cpu_sec();
        w0 = now_sec();
        for (int i = 0; i < reps * 20; i++) {
                uint64_t b, tot;
                long r;

                proc_stat(0, &b, &tot, &r);
        }
        procstat_ms = (cpu_sec() - t0) * 1e3 / (reps * 20);
        wall_ms = (now_sec() - w0) * 1e3 / (reps * 20);
        printf("%-44s %8.3f %8.3f %7s %6d   (busy time, procs_running: no runnable count per node)\n",
               "/proc/stat", procstat_ms, wall_ms, "-", 1);
        if (access("/proc/schedstat", R_OK) == 0) {
                static struct sample_counters c[4096];
                size_t seen;

                t0 = cpu_sec();
                for (int i = 0; i < reps * 20; i++)
                        sample_parse_schedstat(slurp("/proc/schedstat"), c, 4096, &seen);
                printf("%-44s %8.3f %8s %7s %6d   %zu CPUs\n", "/proc/schedstat", (cpu_sec() - t0) * 1e3 / (reps * 20),
                       "", "-", 1, seen);
        } else
                printf("%-44s %8s   (CONFIG_SCHEDSTATS off)\n", "/proc/schedstat", "absent");
        printf("allocations in %d steady-state sampler ticks: %ld\n", reps, allocs);
        measure_kept_fds();
        sampler_free(s);
}

/* --- 3. memory per node: numa_maps against memory.numa_stat ----------------- */

/* A memory cgroup to put the child in: v1 memory hierarchy, else a cgroup2
 * root with the memory controller. NULL if there is none we may use. */
static char *make_cgroup(int n)
{
        const char *roots[] = { "/sys/fs/cgroup/memory", "/sys/fs/cgroup" };

        for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
                _cleanup_free_ char *probe = xasprintf("%s/memory.numa_stat", roots[i]);
                _cleanup_free_ char *ctl = xasprintf("%s/cgroup.controllers", roots[i]);
                char *dir;
                const char *c;

                if (access(probe, R_OK) != 0 && !((c = slurp(ctl)) && strstr(c, "memory")))
                        continue;
                dir = xasprintf("%s/vmtuned-bench-%d-%d", roots[i], (int) getpid(), n);
                if (mkdir(dir, 0755) == 0)
                        return dir;
                free(dir);
        }
        return NULL;
}

static pid_t spawn_hog(const char *cgroup, size_t mib, bool huge)
{
        int go[2], ready[2];
        pid_t pid;
        char c = 0;

        if (pipe(go) < 0 || pipe(ready) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                size_t size = mib << 20;
                char *m;

                /* Wait to be in the cgroup: pages are charged when touched. */
                if (read(go[0], &c, 1) != 1)
                        _exit(1);
                m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED)
                        _exit(1);
                madvise(m, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
                memset(m, 1, size);
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", cgroup);
        char line[32];
        int fd = open(procs, O_WRONLY | O_CLOEXEC);

        snprintf(line, sizeof(line), "%d\n", (int) pid);
        if (fd < 0 || write(fd, line, strlen(line)) < 0)
                fprintf(stderr, "cannot move %d into %s: %m\n", (int) pid, cgroup);
        if (fd >= 0)
                close(fd);
        if (write(go[1], &c, 1) != 1 || read(ready[0], &c, 1) != 1) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                pid = -1;
        }
        close(go[0]);
        close(go[1]);
        close(ready[0]);
        close(ready[1]);
        return pid;
}

/* One process in a cgroup of its own, so no earlier one's pages count. */
static void measure_memory_once(int index, size_t mib, bool huge)
{
        _cleanup_free_ char *cgroup = make_cgroup(index);
        _cleanup_free_ char *maps_path = NULL, *stat_path = NULL;
        uint64_t kib[TOPOLOGY_MAX_NODES] = { 0 };
        double t0, maps_ms, stat_ms;
        uint64_t *maps_kib = NULL;
        size_t n = 0;
        pid_t pid;
        const int reps = 5;

        if (!cgroup) {
                printf("skipped: no memory cgroup to create (needs root and the memory controller)\n");
                return;
        }
        stat_path = xasprintf("%s/memory.numa_stat", cgroup);
        pid = spawn_hog(cgroup, mib, huge);
        if (pid < 0) {
                printf("cannot start the %zu MiB process\n", mib);
                rmdir(cgroup);
                return;
        }
        maps_path = xasprintf("/proc/%d/numa_maps", (int) pid);
        t0 = cpu_sec();
        for (int i = 0; i < reps; i++) {
                free(maps_kib);
                maps_kib = NULL;
                procparse_numa_maps(slurp(maps_path), &maps_kib, &n);
        }
        maps_ms = (cpu_sec() - t0) * 1e3 / reps;
        t0 = cpu_sec();
        for (int i = 0; i < reps * 20; i++)
                sample_parse_numa_stat(slurp(stat_path), (uint64_t) sysconf(_SC_PAGESIZE), kib);
        stat_ms = (cpu_sec() - t0) * 1e3 / (reps * 20);
        printf("%4zu MiB, %-8s  numa_maps %8.3f ms (node0 %6.1f MiB)   memory.numa_stat %6.3f ms (node0 %6.1f MiB)\n",
               mib, huge ? "THP" : "4 KiB", maps_ms, n ? (double) maps_kib[0] / 1024 : 0.0, stat_ms,
               (double) kib[0] / 1024);
        free(maps_kib);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        /* The child is gone; its cgroup can go once the kernel notices. */
        for (int i = 0; i < 50 && rmdir(cgroup) < 0 && errno == EBUSY; i++)
                usleep(10000);
}

static void measure_memory(size_t mib)
{
        printf("\n== 3. memory per node of one process with anonymous memory (CPU ms, mean of 5 / 100 reads)\n");
        measure_memory_once(0, mib / 4, false);
        measure_memory_once(1, mib, false);
        measure_memory_once(2, mib, true);
}

int main(int argc, char **argv)
{
        struct topology *topo = NULL;
        struct kroot root;
        long extra = 1000, mib = 128;
        double t0 = now_sec();
        int r;

        for (int i = 1; i + 1 < argc; i += 2) {
                if (streq(argv[i], "--threads"))
                        extra = strtol(argv[i + 1], NULL, 10);
                else if (streq(argv[i], "--mib"))
                        mib = strtol(argv[i + 1], NULL, 10);
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        r = kroot_open("/", false, &root);
        if (r >= 0)
                r = topology_read(&root, &topo);
        if (r < 0) {
                printf("sample-cost: cannot read the topology: %s\n", strerror(-r));
                return 0;
        }
        printf("# sample-cost: %zu nodes, %u CPUs, page size %ld\n", topo->n_nodes, topo->n_cpus,
               sysconf(_SC_PAGESIZE));
        check_run_delay(topo->cpu_node_size ? topo->cpu_node_size - 1 : 0); /* the highest CPU */
        measure_sources(&root, topo, (int) extra);
        measure_memory((size_t) mib);
        printf("\n# %.1f s in all; load average then: %s", now_sec() - t0, slurp("/proc/loadavg"));
        topology_free(topo);
        kroot_close(&root);
        return 0;
}
