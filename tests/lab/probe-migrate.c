/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tests/lab/probe-migrate: PID 1 of a tiny initramfs booted on the lab's 4-node
 * kernel (tests/lab/probe). It asks the question the mover's choice rests on:
 * how much of another process's memory do move_pages(2) and
 * migrate_pages(2) move, for 4 KiB and transparent huge pages, an idle and
 * a busy process, in a v1 cpuset like libvirt's (cpuset.mems 0 while the
 * memory is taken, then 0-3, memory_migrate=1), with the kernel's NUMA
 * balancing as the kernel command line leaves it (probe_numa_balancing=0
 * turns it off first). One "PROBE" line per case on the console, then the
 * migration counters of /proc/vmstat; then it powers off. */
#define _GNU_SOURCE
#include <numaif.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB (1024UL * 1024)
#define SIZE (64 * MIB)
#define PAGES (SIZE / 4096)
#define CG "/cg/vm/emulator"

enum how { MOVE_PAGES_4K, MOVE_PAGES_2M, MIGRATE_PAGES };
static const char *const how_name[] = { "move_pages, every 4 KiB", "move_pages, one per 2 MiB", "migrate_pages" };

static void *addr[PAGES];
static int node[PAGES], status[PAGES];

static double now(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec + (double) t.tv_nsec / 1e9;
}

static void put(const char *path, const char *value)
{
        FILE *f = fopen(path, "w");

        if (!f || fputs(value, f) < 0 || fclose(f) != 0)
                printf("PROBE error: writing %s to %s failed\n", value, path);
}

/* The process to move: joins the cpuset, takes SIZE on node 0, is let
 * loose on every node and a CPU of node 1, says where its memory is, then
 * idles or touches every page forever. */
static void target(int pipe_w, bool huge, bool busy)
{
        char pid[32], *p;

        snprintf(pid, sizeof(pid), "%d", getpid());
        put(CG "/tasks", pid);
        p = mmap(NULL, SIZE + 2 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(1);
        p = (char *) (((unsigned long) p + 2 * MIB - 1) & ~(2 * MIB - 1));
        madvise(p, SIZE, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        memset(p, 1, SIZE);
        put(CG "/cpuset.mems", "0-3");
        put(CG "/cpuset.cpus", "1");
        if (write(pipe_w, &p, sizeof(p)) != sizeof(p))
                _exit(1);
        for (;;) {
                if (!busy)
                        pause();
                for (size_t i = 0; i < SIZE; i += 4096)
                        p[i]++;
        }
}

static int pages_on(pid_t pid, char *p, int want)
{
        int n = 0;

        for (size_t i = 0; i < PAGES; i++)
                addr[i] = p + i * 4096;
        if (move_pages(pid, PAGES, addr, NULL, status, 0) < 0)
                return -1;
        for (size_t i = 0; i < PAGES; i++)
                n += status[i] == want;
        return n;
}

static void probe(enum how how, bool huge, bool busy)
{
        int fd[2], before, after;
        long r = 0;
        double t0, t;
        pid_t pid;
        char *p;

        if (pipe(fd) < 0)
                return;
        put(CG "/cpuset.cpus", "0");
        put(CG "/cpuset.mems", "0");
        pid = fork();
        if (pid == 0)
                target(fd[1], huge, busy);
        if (read(fd[0], &p, sizeof(p)) != sizeof(p))
                return;
        usleep(200000);
        before = pages_on(pid, p, 0);
        t0 = now();
        if (how == MIGRATE_PAGES) {
                unsigned long from = 1UL << 0, to = 1UL << 1;

                r = syscall(SYS_migrate_pages, pid, 8 * sizeof(unsigned long), &from, &to);
        } else {
                size_t step = how == MOVE_PAGES_4K ? 4096 : 2 * MIB, n = 0;

                for (size_t off = 0; off < SIZE; off += step, n++) {
                        addr[n] = p + off;
                        node[n] = 1;
                }
                for (size_t i = 0; i < n && r >= 0; i += 512)
                        r = move_pages(pid, n - i < 512 ? n - i : 512, addr + i, node + i, status + i,
                                       MPOL_MF_MOVE);
        }
        t = now() - t0;
        after = pages_on(pid, p, 1);
        printf("PROBE %-26s %s %s: %d of %lu pages on node 0 before, %d on node 1 after (%.0f %%), %.3f s, "
               "returned %ld\n", how_name[how], huge ? "huge" : "4k  ", busy ? "busy" : "idle", before, PAGES,
               after, 100.0 * after / PAGES, t, r);
        fflush(stdout);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(fd[0]);
        close(fd[1]);
}

int main(void)
{
        char line[256], *nb = getenv("probe_numa_balancing");
        FILE *f;

        mkdir("/proc", 0755);
        mkdir("/sys", 0755);
        if (mount("proc", "/proc", "proc", 0, NULL) < 0 || mount("sysfs", "/sys", "sysfs", 0, NULL) < 0)
                printf("PROBE error: cannot mount /proc or /sys\n");
        mkdir("/cg", 0755);
        if (mount("cpuset", "/cg", "cgroup", 0, "cpuset") < 0)
                printf("PROBE error: cannot mount the v1 cpuset controller\n");
        mkdir("/cg/vm", 0755);
        put("/cg/vm/cpuset.cpus", "0-3");
        put("/cg/vm/cpuset.mems", "0-3");
        mkdir(CG, 0755);
        put(CG "/cpuset.memory_migrate", "1");
        if (nb)
                put("/proc/sys/kernel/numa_balancing", nb);
        f = fopen("/proc/sys/kernel/numa_balancing", "r");
        if (f && fgets(line, sizeof(line), f))
                printf("PROBE kernel.numa_balancing = %s", line);
        if (f)
                fclose(f);
        for (int busy = 0; busy <= 1; busy++)
                for (int huge = 0; huge <= 1; huge++)
                        for (enum how how = MOVE_PAGES_4K; how <= MIGRATE_PAGES; how++)
                                if (how != MOVE_PAGES_2M || huge)
                                        probe(how, huge, busy);
        f = fopen("/proc/vmstat", "r");
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, "pgmigrate", 9) == 0 || strncmp(line, "thp_migration", 13) == 0)
                        printf("PROBE vmstat %s", line);
        fflush(stdout);
        sync();
        reboot(RB_POWER_OFF);
        return 0;
}
