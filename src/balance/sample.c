/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What is measured and why: sample.h. The figures behind the choices:
 * tests/bench/results/sample-cost-*.txt. The parsers are in sample-parse.c.
 * Layout: a pid-keyed hash, reading, domains and memory, the tick, the snapshot.
 * One concern at ~600 lines: one tick's reads, which share the allocation-
 * free buffers and the hash (0 allocations per steady-state tick). */
#include "balance/sample.h"

#include <assert.h>
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "base/log.h"
#include "base/util.h"

static_assert(TOPOLOGY_MAX_NODES == BALANCE_MAX_NODES, "node ids index both");

#define DENTS_SIZE 32768
#define BUF_MAX (16u << 20)

/* --- pid-keyed hash ----------------------------------------------------- */

/* Open addressing, linear probing; key 0 marks a free slot. Cleared, not
 * freed, every tick: it only allocates when the host has more threads. */
struct pidmap_slot {
        pid_t key;
        uint32_t value;
};

struct pidmap {
        struct pidmap_slot *slots;
        size_t cap;     /* a power of two */
        size_t n;
};

static size_t pidmap_home(const struct pidmap *m, pid_t key)
{
        return ((uint32_t) key * 2654435761u) & (m->cap - 1);
}

static void pidmap_clear(struct pidmap *m)
{
        if (m->slots)
                memset(m->slots, 0, m->cap * sizeof(struct pidmap_slot));
        m->n = 0;
}

static void pidmap_put(struct pidmap *m, pid_t key, uint32_t value);

static void pidmap_grow(struct pidmap *m)
{
        struct pidmap old = *m;

        m->cap = old.cap ? old.cap * 2 : 256;
        m->slots = xcalloc(m->cap, sizeof(struct pidmap_slot));
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
                if (old.slots[i].key)
                        pidmap_put(m, old.slots[i].key, old.slots[i].value);
        free(old.slots);
}

static void pidmap_put(struct pidmap *m, pid_t key, uint32_t value)
{
        size_t i;

        if ((m->n + 1) * 2 > m->cap)
                pidmap_grow(m);
        for (i = pidmap_home(m, key); m->slots[i].key && m->slots[i].key != key; i = (i + 1) & (m->cap - 1))
                ;
        if (!m->slots[i].key)
                m->n++;
        m->slots[i] = (struct pidmap_slot){ .key = key, .value = value };
}

static bool pidmap_get(const struct pidmap *m, pid_t key, uint32_t *ret)
{
        if (m->n == 0 || key <= 0)
                return false;
        for (size_t i = pidmap_home(m, key); m->slots[i].key; i = (i + 1) & (m->cap - 1))
                if (m->slots[i].key == key) {
                        *ret = m->slots[i].value;
                        return true;
                }
        return false;
}

/* --- the sampler's state ------------------------------------------------ */

/* Every thread's counters at one tick, by tid; for a domain's thread also
 * its schedstat file, kept open (-1: none). */
struct thread_table {
        struct pidmap map;
        pid_t *tid;
        struct sample_counters *c;
        int *fd;
        size_t n, cap;
};

/* A domain as the sampler tracks it; dom[i] belongs to the tick's doms[i]. */
struct sample_dom {
        int virt_id;
        pid_t pid;
        unsigned id;            /* balance_domain.id */
        bool claimed;           /* matched by the current tick (duplicates get new ids) */
        bool baseline;          /* sampled last tick: its threads have counters to diff */
        uint64_t ns;            /* run + wait ns of its threads over the interval */
        double load;
        uint64_t mem_kib[TOPOLOGY_MAX_NODES];

        /* proc/PID/task, kept open (-1: not kept), with its link count at
         * the last listing (one per thread); its threads' entries
         * [first, first + n_threads) in the thread table of tick
         * threads_gen (sampler.flips once that table is the last one). */
        int taskfd;
        nlink_t task_nlink;
        uint32_t first, n_threads;
        uint64_t threads_gen;
};

struct sampler {
        enum sampler_source source;
        bool primed;            /* counters of a previous tick are there */
        bool ready;             /* an interval was measured */
        uint64_t prev_usec;
        unsigned next_id;
        uint64_t page_size;

        struct thread_table threads[2];  /* [cur] this tick, [!cur] the last */
        int cur;

        unsigned n_cpus;                 /* topology's cpu_node_size */
        struct sample_counters *cpu_prev, *cpu_now; /* SCHEDSTAT */
        uint64_t *cpu_ns;                /* run + wait ns over the interval, by CPU */

        struct sample_dom *doms, *doms_prev;
        size_t n_doms, cap_doms;
        struct pidmap dom_by_pid;        /* pid -> index in doms */

        double node_nr[TOPOLOGY_MAX_NODES];
        struct topology_meminfo node_mem[TOPOLOGY_MAX_NODES];

        struct balance_node *snap_nodes;
        struct balance_domain *snap_doms;
        /* The snapshot's own copies of the domain names: the snapshot is
         * printed between ticks (vmtunectl plan, status), when the domain
         * table may have dropped a domain and freed its name. A copy is made
         * only when the name at an index changes. */
        char **snap_names;
        size_t cap_snap_nodes, cap_snap_doms;

        /* Files read every tick, opened at their first read and kept
         * (kfile_open_kept); -1 until then. */
        int procfd;
        int schedstat_fd;
        int meminfo_fd[TOPOLOGY_MAX_NODES];
        size_t kept_fds;                 /* domains' task/ and threads' schedstat fds open */
        size_t max_kept_fds;             /* half of RLIMIT_NOFILE: the rest opened each tick */
        uint64_t flips;                  /* ticks whose thread table became the last one */

        char *buf;                       /* whole-file reads, grown as needed */
        size_t buf_size;
        char *dents[2];                  /* getdents64 buffers: proc/, proc/PID/task/ */
        struct sampler_stats stats;
};

const char *sampler_source_to_string(enum sampler_source source)
{
        switch (source) {
        case SAMPLER_SOURCE_AUTO:
                return "auto";
        case SAMPLER_SOURCE_SCHEDSTAT:
                return "proc/schedstat";
        case SAMPLER_SOURCE_THREADS:
                return "per-thread schedstat";
        }
        return "?";
}

/* Close the schedstat fds a table still holds: threads the last tick did
 * not see again, or a tick that failed. */
static void threads_close(struct sampler *s, struct thread_table *t)
{
        for (size_t i = 0; t->fd && i < t->n; i++)
                if (t->fd[i] >= 0) {
                        close(t->fd[i]);
                        t->fd[i] = -1;
                        s->kept_fds--;
                }
}

static void dom_close_task(struct sampler *s, struct sample_dom *dom)
{
        if (dom->taskfd >= 0) {
                close(dom->taskfd);
                s->kept_fds--;
        }
        dom->taskfd = -1;
}

struct sampler *sampler_new(enum sampler_source source)
{
        struct sampler *s = xcalloc(1, sizeof(struct sampler));
        long page = sysconf(_SC_PAGESIZE);
        struct rlimit nofile;

        s->source = source;
        s->next_id = 1;
        s->page_size = page > 0 ? (uint64_t) page : 4096;
        s->buf_size = 16384;
        s->buf = xcalloc(s->buf_size, 1);
        s->dents[0] = xcalloc(DENTS_SIZE, 1);
        s->dents[1] = xcalloc(DENTS_SIZE, 1);
        s->procfd = s->schedstat_fd = -1;
        s->max_kept_fds = getrlimit(RLIMIT_NOFILE, &nofile) == 0 ? nofile.rlim_cur / 2 : 256;
        for (size_t i = 0; i < ARRAY_SIZE(s->meminfo_fd); i++)
                s->meminfo_fd[i] = -1;
        return s;
}

void sampler_free(struct sampler *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n_doms; i++)
                dom_close_task(s, &s->doms[i]);
        for (size_t i = 0; i < ARRAY_SIZE(s->threads); i++) {
                threads_close(s, &s->threads[i]);
                free(s->threads[i].map.slots);
                free(s->threads[i].c);
                free(s->threads[i].fd);
                free(s->threads[i].tid);
        }
        free(s->cpu_prev);
        free(s->cpu_now);
        free(s->cpu_ns);
        free(s->doms);
        free(s->doms_prev);
        free(s->dom_by_pid.slots);
        free(s->snap_nodes);
        free(s->snap_doms);
        for (size_t i = 0; i < s->cap_snap_doms; i++)
                free(s->snap_names[i]);
        free(s->snap_names);
        free(s->buf);
        free(s->dents[0]);
        free(s->dents[1]);
        closep(&s->procfd);
        closep(&s->schedstat_fd);
        for (size_t i = 0; i < ARRAY_SIZE(s->meminfo_fd); i++)
                closep(&s->meminfo_fd[i]);
        free(s);
}

void sampler_get_stats(const struct sampler *s, struct sampler_stats *ret)
{
        *ret = s->stats;
        ret->kept_limit = s->max_kept_fds;
}

/* --- reading ------------------------------------------------------------ */

/* A file under dirfd into buf (NUL-terminated); its length or -errno. A
 * thread that exits between listing and reading is -ENOENT (kfile). */
static ssize_t read_small(struct sampler *s, int dirfd, const char *rel, char *buf, size_t size)
{
        ssize_t n = kfile_read_at(dirfd, rel, buf, size);

        if (n >= 0)
                s->stats.files++;
        return n;
}

/* After a read into s->buf that answered n: count it, and grow the buffer
 * for a file that got longer. True: read again. */
static bool read_again(struct sampler *s, ssize_t n)
{
        if (n >= 0)
                s->stats.files++;
        if (n != -E2BIG || s->buf_size >= BUF_MAX)
                return false;
        s->buf_size *= 2;
        free(s->buf);
        s->buf = xcalloc(s->buf_size, 1);
        return true;
}

/* A whole file under the root into s->buf. */
static ssize_t read_whole(struct sampler *s, const struct kroot *root, const char *rel)
{
        ssize_t n;

        do
                n = kfile_read_raw(root, rel, s->buf, s->buf_size);
        while (read_again(s, n));
        return n;
}

/* The same for a file read every tick: opened once into *fd and kept, then
 * one pread a tick instead of open + read + close. */
static ssize_t read_kept(struct sampler *s, const struct kroot *root, const char *rel, int *fd)
{
        ssize_t n;

        if (*fd < 0) {
                int r = kfile_open_kept(root, rel);

                if (r < 0)
                        return r;
                *fd = r;
        }
        do
                n = kfile_pread(*fd, s->buf, s->buf_size);
        while (read_again(s, n));
        return n;
}

static bool parse_pid(const char *name, pid_t *ret)
{
        long v;

        if (!isdigit((unsigned char) name[0]) || parse_long(name, 1, INT32_MAX, &v) < 0)
                return false;
        *ret = (pid_t) v;
        return true;
}

/* Remember a thread's counters; the run + wait ns it added since the last
 * tick. A thread not seen then was born since (the last tick saw every
 * thread it could count, says baseline), so all of its time is new; one
 * whose counters went back is a new thread with a reused tid. */
static uint64_t thread_delta(struct sampler *s, pid_t tid, const struct sample_counters *c, int fd, bool baseline)
{
        struct thread_table *now = &s->threads[s->cur], *prev = &s->threads[!s->cur];
        const struct sample_counters *p;
        uint32_t i;

        if (now->n == now->cap) {
                now->cap = now->cap ? now->cap * 2 : 256;
                now->c = xreallocarray(now->c, now->cap, sizeof(struct sample_counters));
                now->fd = xreallocarray(now->fd, now->cap, sizeof(int));
                now->tid = xreallocarray(now->tid, now->cap, sizeof(pid_t));
        }
        now->tid[now->n] = tid;
        now->c[now->n] = *c;
        now->fd[now->n] = fd;
        pidmap_put(&now->map, tid, (uint32_t) now->n++);
        if (!pidmap_get(&prev->map, tid, &i))
                return baseline ? c->run_ns + c->wait_ns : 0;
        p = &prev->c[i];
        if (c->run_ns < p->run_ns || c->wait_ns < p->wait_ns)
                return c->run_ns + c->wait_ns;
        return (c->run_ns - p->run_ns) + (c->wait_ns - p->wait_ns);
}

/* A thread's schedstat into buf. A domain's thread (keep) is read through
 * the fd the last tick kept for it, else opened and kept while the budget
 * allows: its cost each tick is one pread, not open + read + close. A kept
 * fd of a thread that exited answers ESRCH, also when its tid is reused:
 * then the file is opened again by path. *ret_fd: the fd to keep, or -1. */
static int read_task_schedstat(struct sampler *s, int taskfd, pid_t tid, bool keep, char *buf, size_t size,
                               int *ret_fd)
{
        struct thread_table *prev = &s->threads[!s->cur];
        char path[32];
        uint32_t i;
        ssize_t n;
        int fd;

        *ret_fd = -1;
        if (keep && prev->fd && pidmap_get(&prev->map, tid, &i) && prev->fd[i] >= 0) {
                fd = TAKE_FD(prev->fd[i]);
                n = kfile_pread_once(fd, buf, size);
                if (n >= 0) {
                        s->stats.files++;
                        *ret_fd = fd;
                        return 0;
                }
                close(fd);
                s->kept_fds--;
        }
        snprintf(path, sizeof(path), "%d/schedstat", (int) tid);
        if (!keep || s->kept_fds >= s->max_kept_fds) {
                s->stats.unkept += keep;
                n = read_small(s, taskfd, path, buf, size);
                return n < 0 ? (int) n : 0;
        }
        fd = kfile_open_kept_at(taskfd, path);
        if (fd < 0)
                return fd;
        n = kfile_pread_once(fd, buf, size);
        if (n < 0) {
                close(fd);
                return (int) n;
        }
        s->stats.files++;
        s->kept_fds++;
        *ret_fd = fd;
        return 0;
}

/* One thread: its counters, what it added charged to dom and (by_cpu) to
 * the CPU it last ran on. -errno if it cannot be read (gone). */
static int sample_thread(struct sampler *s, int taskfd, pid_t tid, struct sample_dom *dom, bool by_cpu,
                         bool baseline)
{
        char path[64], buf[1024];  /* a stat line is ~350 bytes */
        struct sample_counters c;
        uint64_t delta;
        unsigned cpu;
        char state;
        int fd, r;

        r = read_task_schedstat(s, taskfd, tid, dom != NULL, buf, sizeof(buf), &fd);
        if (r < 0)
                return r;
        if (sample_parse_task_schedstat(buf, &c) < 0) {
                if (fd >= 0) {
                        close(fd);
                        s->kept_fds--;
                }
                return -EINVAL;
        }
        s->stats.threads++;
        delta = thread_delta(s, tid, &c, fd, baseline);
        if (delta == 0)
                return 0;  /* asleep all interval: its CPU does not matter */
        if (dom)
                dom->ns += delta;
        if (!by_cpu)
                return 0;
        snprintf(path, sizeof(path), "%d/stat", (int) tid);
        if (read_small(s, taskfd, path, buf, sizeof(buf)) >= 0 && sample_parse_task_stat(buf, &state, &cpu) == 0 &&
            cpu < s->n_cpus)
                s->cpu_ns[cpu] += delta;
        return 0;
}

/* A domain's threads as the last tick found them, without listing task/
 * again, if its link count (one per thread) did not change and each still
 * reads. False: list it. Threads read here stay counted; the listing skips
 * them. A thread that exited while another started fails its read (ESRCH
 * on the kept fd), so it does not go unnoticed behind an equal count. */
static bool sample_known_threads(struct sampler *s, struct sample_dom *dom, bool baseline)
{
        const struct thread_table *prev = &s->threads[!s->cur];
        struct stat st;

        if (dom->taskfd < 0 || dom->threads_gen != s->flips || fstat(dom->taskfd, &st) < 0 ||
            st.st_nlink != dom->task_nlink)
                return false;
        for (uint32_t j = dom->first; j < dom->first + dom->n_threads; j++)
                if (j >= prev->n || sample_thread(s, dom->taskfd, prev->tid[j], dom, false, baseline) < 0)
                        return false;
        return true;
}

/* Every thread of process pid. by_cpu: also charge each to the CPU it last
 * ran on (THREADS). dom: the domain it is, or NULL; its task/ is kept open
 * and listed only when its threads changed (sample_known_threads()). */
static int sample_process(struct sampler *s, int procfd, pid_t pid, struct sample_dom *dom, bool by_cpu,
                          bool baseline)
{
        struct thread_table *now = &s->threads[s->cur];
        _cleanup_close_ int own = -1;
        uint32_t first = (uint32_t) now->n, i;
        int taskfd = -1, r = 0;
        struct stat st;
        char path[64];
        long n;

        if (dom && !by_cpu && sample_known_threads(s, dom, baseline))
                goto done;
        if (dom && dom->taskfd >= 0 && lseek(dom->taskfd, 0, SEEK_SET) < 0)
                dom_close_task(s, dom);
        if (dom && dom->taskfd >= 0)
                taskfd = dom->taskfd;
        else {
                snprintf(path, sizeof(path), "%d/task", (int) pid);
                own = kfile_open_dirfd_at(procfd, path);
                if (own < 0)
                        return own;
                taskfd = own;
                if (dom && s->kept_fds < s->max_kept_fds) {
                        dom->taskfd = TAKE_FD(own);
                        s->kept_fds++;
                } else if (dom)
                        s->stats.unkept++;
        }
        if (dom)
                dom->task_nlink = fstat(taskfd, &st) == 0 ? st.st_nlink : 0;
        s->stats.dirs_listed++;
        while ((n = getdents64(taskfd, s->dents[1], DENTS_SIZE)) > 0)
                for (long off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (s->dents[1] + off);
                        pid_t tid;

                        off += de->d_reclen;
                        if (!parse_pid(de->d_name, &tid) || pidmap_get(&now->map, tid, &i))
                                continue;
                        (void) sample_thread(s, taskfd, tid, dom, by_cpu, baseline);  /* gone: skipped */
                }
        /* A process that exits while listed leaves an empty directory. */
        r = n < 0 && errno != ENOENT && errno != ESRCH ? -errno : 0;
done:
        if (dom) {
                dom->first = first;
                dom->n_threads = (uint32_t) now->n - first;
                dom->threads_gen = s->flips + 1;
        }
        return r;
}

/* THREADS: walk proc/ for every process, domains or not. */
static int sample_all_threads(struct sampler *s, int procfd)
{
        long n;

        /* procfd is kept across ticks: list it from its start. */
        if (lseek(procfd, 0, SEEK_SET) < 0)
                return -errno;
        while ((n = getdents64(procfd, s->dents[0], DENTS_SIZE)) > 0)
                for (long off = 0; off < n;) {
                        const struct dirent64 *de = (const struct dirent64 *) (s->dents[0] + off);
                        struct sample_dom *dom = NULL;
                        uint32_t i;
                        pid_t pid;
                        int r;

                        off += de->d_reclen;
                        if (!parse_pid(de->d_name, &pid))
                                continue;
                        if (pidmap_get(&s->dom_by_pid, pid, &i))
                                dom = &s->doms[i];
                        r = sample_process(s, procfd, pid, dom, true, s->primed);
                        if (r < 0 && r != -ENOENT)
                                return r;
                }
        return n < 0 ? -errno : 0;
}

/* SCHEDSTAT: per CPU from one file, then only the domains' threads. */
static int sample_schedstat(struct sampler *s, const struct kroot *root, int procfd)
{
        struct sample_counters *tmp;
        size_t seen;
        ssize_t len;
        int r;

        len = read_kept(s, root, "proc/schedstat", &s->schedstat_fd);
        if (len < 0)
                return (int) len;
        r = sample_parse_schedstat(s->buf, s->cpu_now, s->n_cpus, &seen);
        if (r < 0)
                return r;
        for (unsigned cpu = 0; s->primed && cpu < s->n_cpus; cpu++) {
                const struct sample_counters *a = &s->cpu_prev[cpu], *b = &s->cpu_now[cpu];

                /* A CPU offline at either end (no line: zeros) counts nothing. */
                if ((a->run_ns || a->wait_ns || a->slices) && b->run_ns >= a->run_ns && b->wait_ns >= a->wait_ns)
                        s->cpu_ns[cpu] = (b->run_ns - a->run_ns) + (b->wait_ns - a->wait_ns);
        }
        tmp = s->cpu_prev;
        s->cpu_prev = s->cpu_now;
        s->cpu_now = tmp;
        for (size_t i = 0; i < s->n_doms; i++) {
                if (s->doms[i].pid <= 0)
                        continue;
                r = sample_process(s, procfd, s->doms[i].pid, &s->doms[i], false, s->doms[i].baseline);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

static void choose_source(struct sampler *s, const struct kroot *root)
{
        struct sample_counters c[1];
        size_t seen;
        int r = -ENOENT;

        if (s->source != SAMPLER_SOURCE_AUTO)
                return;
        if (read_kept(s, root, "proc/schedstat", &s->schedstat_fd) >= 0)
                r = sample_parse_schedstat(s->buf, c, 1, &seen);
        s->source = r >= 0 ? SAMPLER_SOURCE_SCHEDSTAT : SAMPLER_SOURCE_THREADS;
        log_info("sampling load from %s%s%s", sampler_source_to_string(s->source),
                 r == -ENOENT ? ": no proc/schedstat (kernel without CONFIG_SCHEDSTATS)" : "",
                 r < 0 && r != -ENOENT ? ": proc/schedstat of an unknown version" : "");
}

/* --- domains and memory ------------------------------------------------- */

/* The last tick's entry of domain d: by PID, or by libvirt id alone for a
 * domain without a process (libvirt's test driver). */
static bool find_tracked(const struct sampler *s, const struct domain *d, uint32_t *ret)
{
        if (d->pid > 0)
                return pidmap_get(&s->dom_by_pid, d->pid, ret);
        for (uint32_t k = 0; k < s->n_doms; k++)
                if (s->doms[k].pid == 0 && s->doms[k].virt_id == d->id && !s->doms[k].claimed) {
                        *ret = k;
                        return true;
                }
        return false;
}

/* Match the tick's domains to the last tick's by libvirt id and PID, in
 * doms order; a domain seen for the first time gets a new id. */
static void track_domains(struct sampler *s, const struct domain *doms, size_t n)
{
        struct sample_dom *prev, *now;

        if (n > s->cap_doms) {
                s->cap_doms = n * 2;
                s->doms = xreallocarray(s->doms, s->cap_doms, sizeof(struct sample_dom));
                s->doms_prev = xreallocarray(s->doms_prev, s->cap_doms, sizeof(struct sample_dom));
        }
        prev = s->doms;
        now = s->doms_prev;
        for (size_t k = 0; k < s->n_doms; k++)
                prev[k].claimed = false;
        for (size_t i = 0; i < n; i++) {
                const struct domain *d = &doms[i];
                uint32_t k;

                if (find_tracked(s, d, &k) && prev[k].virt_id == d->id && !prev[k].claimed) {
                        prev[k].claimed = true;
                        now[i] = prev[k];
                        now[i].baseline = s->primed;
                } else
                        now[i] = (struct sample_dom){ .virt_id = d->id, .pid = d->pid, .id = s->next_id++,
                                                      .taskfd = -1 };
                now[i].ns = 0;
                now[i].load = 0;
        }
        for (size_t k = 0; k < s->n_doms; k++)
                if (!prev[k].claimed)
                        dom_close_task(s, &prev[k]);  /* gone */
        s->doms_prev = prev;
        s->doms = now;
        s->n_doms = n;
        pidmap_clear(&s->dom_by_pid);
        for (size_t i = 0; i < n; i++)
                if (now[i].pid > 0)
                        pidmap_put(&s->dom_by_pid, now[i].pid, (uint32_t) i);
}

/* memory.numa_stat of the domain's memory cgroup, else the numa_maps
 * figure of the domain table. Hugetlbfs pages are not charged to memcg. */
static void sample_memory(struct sampler *s, const struct kroot *root, const struct domain *d,
                          struct sample_dom *sd)
{
        char path[PATH_MAX];

        if (d->cgroup_memory && !(d->pins & DOMAIN_PIN_HUGEPAGES) &&
            snprintf(path, sizeof(path), "%s/memory.numa_stat", d->cgroup_memory) < (int) sizeof(path) &&
            read_whole(s, root, path) >= 0 && sample_parse_numa_stat(s->buf, s->page_size, sd->mem_kib) == 0) {
                s->stats.domains_numa_stat++;
                return;
        }
        memset(sd->mem_kib, 0, sizeof(sd->mem_kib));
        for (size_t node = 0; node < d->n_node_memory && node < TOPOLOGY_MAX_NODES; node++)
                sd->mem_kib[node] = d->node_memory_kib[node];
}

/* --- the tick ----------------------------------------------------------- */

/* Per-CPU arrays follow the topology; a new CPU set starts a new baseline. */
static void size_arrays(struct sampler *s, const struct topology *topo, size_t n)
{
        if (!s->cpu_ns || topo->cpu_node_size != s->n_cpus) {
                s->n_cpus = topo->cpu_node_size;
                free(s->cpu_prev);
                free(s->cpu_now);
                free(s->cpu_ns);
                s->cpu_prev = xcalloc(s->n_cpus + 1, sizeof(struct sample_counters));
                s->cpu_now = xcalloc(s->n_cpus + 1, sizeof(struct sample_counters));
                s->cpu_ns = xcalloc(s->n_cpus + 1, sizeof(uint64_t));
                s->primed = false;
        }
        if (topo->n_nodes > s->cap_snap_nodes) {
                s->cap_snap_nodes = topo->n_nodes;
                s->snap_nodes = xreallocarray(s->snap_nodes, s->cap_snap_nodes, sizeof(struct balance_node));
        }
        if (n > s->cap_snap_doms) {
                size_t old = s->cap_snap_doms;

                s->cap_snap_doms = n * 2;
                s->snap_doms = xreallocarray(s->snap_doms, s->cap_snap_doms, sizeof(struct balance_domain));
                s->snap_names = xreallocarray(s->snap_names, s->cap_snap_doms, sizeof(char *));
                memset(s->snap_names + old, 0, (s->cap_snap_doms - old) * sizeof(char *));
        }
}

static int sample_counters(struct sampler *s, const struct kroot *root, int procfd, const struct topology *topo,
                           const struct domain *doms)
{
        struct thread_table *now = &s->threads[s->cur];
        int r;

        threads_close(s, now);  /* left by a tick that failed */
        pidmap_clear(&now->map);
        now->n = 0;
        memset(s->cpu_ns, 0, s->n_cpus * sizeof(uint64_t));
        for (size_t i = 0; i < topo->n_nodes; i++) {
                unsigned id = topo->nodes[i].id;
                char path[64];
                ssize_t len;

                r = topology_meminfo_path(topo, id, path, sizeof(path));
                if (r < 0)
                        return r;
                len = read_kept(s, root, path, &s->meminfo_fd[id]);
                if (len < 0)
                        return (int) len;
                r = topology_parse_meminfo(s->buf, &s->node_mem[id]);
                if (r < 0)
                        return r;
        }
        r = s->source == SAMPLER_SOURCE_SCHEDSTAT ? sample_schedstat(s, root, procfd) : sample_all_threads(s, procfd);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_doms; i++)
                sample_memory(s, root, &doms[i], &s->doms[i]);
        threads_close(s, &s->threads[!s->cur]);  /* threads gone since */
        s->cur = !s->cur;
        s->flips++;  /* this tick's counters are the next one's baseline */
        return 0;
}

static void finish_tick(struct sampler *s, const struct topology *topo, uint64_t now_usec)
{
        s->ready = s->primed;
        if (s->ready) {
                double interval_ns = (double) (now_usec - s->prev_usec) * 1000.0;

                memset(s->node_nr, 0, sizeof(s->node_nr));
                for (unsigned cpu = 0; cpu < s->n_cpus; cpu++) {
                        int node = topology_cpu_node(topo, cpu);

                        if (node >= 0)
                                s->node_nr[node] += (double) s->cpu_ns[cpu] / interval_ns;
                }
                for (size_t i = 0; i < s->n_doms; i++)
                        s->doms[i].load = (double) s->doms[i].ns / interval_ns;
                s->stats.interval_usec = now_usec - s->prev_usec;
        }
        s->primed = true;
        s->prev_usec = now_usec;
}

int sampler_tick(struct sampler *s, const struct kroot *root, const struct topology *topo,
                 const struct domain *doms, size_t n, uint64_t now_usec)
{
        struct timespec cpu0, cpu1;
        int r;

        if (s->primed && now_usec <= s->prev_usec)
                return -EINVAL;
        (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
        if (s->procfd < 0) {
                s->procfd = kfile_open_dirfd(root, "proc");
                if (s->procfd < 0)
                        return s->procfd;
        }
        s->stats = (struct sampler_stats){ .interval_usec = 0 };
        choose_source(s, root);
        s->stats.source = s->source;
        size_arrays(s, topo, n);
        track_domains(s, doms, n);
        r = sample_counters(s, root, s->procfd, topo, doms);
        if (r < 0) {
                s->primed = s->ready = false;
                return r;
        }
        finish_tick(s, topo, now_usec);
        (void) clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
        s->stats.cpu_usec = (uint64_t) ((cpu1.tv_sec - cpu0.tv_sec) * 1000000 + (cpu1.tv_nsec - cpu0.tv_nsec) / 1000);
        return 0;
}

void sampler_reset(struct sampler *s)
{
        for (size_t i = 0; i < ARRAY_SIZE(s->threads); i++)
                threads_close(s, &s->threads[i]);
        for (size_t i = 0; i < s->n_doms; i++)
                dom_close_task(s, &s->doms[i]);
        s->primed = s->ready = false;
}

/* --- the snapshot ------------------------------------------------------- */

static uint64_t node_mask(const struct bitmap *nodes)
{
        uint64_t mask = 0;

        for (unsigned id = 0; id < bitmap_size(nodes) && id < BALANCE_MAX_NODES; id++)
                if (bitmap_test(nodes, id))
                        mask |= BALANCE_NODE_BIT(id);
        return mask;
}

/* The policy's share_group: equal for equal keys (FNV-1a), never 0. Two
 * keys that collide only make the policy prefer keeping two unrelated VMs
 * together, within BALANCE_SHARE_BONUS. */
static unsigned share_group(const char *key)
{
        uint32_t h = 2166136261u;

        if (!key)
                return 0;
        for (const unsigned char *p = (const unsigned char *) key; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h ? h : 1;
}

static const char *keep_name(char **slot, const char *name)
{
        if (!*slot || !streq(*slot, name)) {
                free(*slot);
                *slot = xstrdup(name);
        }
        return *slot;
}

static void fill_domain(const struct domain *d, const struct sample_dom *sd, char **name_slot,
                        struct balance_domain *ret)
{
        *ret = (struct balance_domain){
                .id = sd->id,
                .name = keep_name(name_slot, d->name),
                .vcpus = d->n_vcpus,
                .load = sd->load,
                .mem_size_mib = d->memory_kib / 1024,
                .cpu_nodes = node_mask(&d->cpu_nodes),
                .movable = d->movable,
                .not_movable_reason = d->reason,
                .share_group = share_group(d->share_key),
        };
        for (size_t node = 0; node < TOPOLOGY_MAX_NODES; node++)
                ret->mem_mib[node] = (sd->mem_kib[node] + 512) / 1024;
}

int sampler_snapshot(const struct sampler *s, const struct topology *topo, const struct domain *doms,
                     size_t n, struct balance_snapshot *ret)
{
        size_t n_nodes = 0;

        if (!s->ready)
                return -EAGAIN;
        if (n != s->n_doms || topo->n_nodes > s->cap_snap_nodes)
                return -ESTALE;
        for (size_t i = 0; i < n; i++)
                if (doms[i].id != s->doms[i].virt_id || doms[i].pid != s->doms[i].pid)
                        return -ESTALE;
        for (size_t i = 0; i < topo->n_nodes; i++) {
                const struct topology_node *tn = &topo->nodes[i];
                const struct topology_meminfo *m = &s->node_mem[tn->id];
                struct balance_node *bn = &s->snap_nodes[n_nodes];

                /* The balancer places CPUs: a memory-only node is not one
                 * of its nodes (its memory still shows in mem_mib). */
                if (tn->n_cpus == 0)
                        continue;
                *bn = (struct balance_node){
                        .id = tn->id,
                        .cpus = tn->n_cpus,
                        .nr_running = s->node_nr[tn->id],
                        .mem_total_mib = m->total_kib / 1024,
                        /* Inactive page cache is what reclaim drops first,
                         * so memory that moves here can have it. */
                        .mem_free_mib = (m->free_kib + m->inactive_file_kib) / 1024,
                };
                memcpy(bn->distance, tn->distance, sizeof(bn->distance));
                n_nodes++;
        }
        for (size_t i = 0; i < n; i++)
                fill_domain(&doms[i], &s->doms[i], &s->snap_names[i], &s->snap_doms[i]);
        *ret = (struct balance_snapshot){
                .nodes = s->snap_nodes,
                .n_nodes = n_nodes,
                .domains = s->snap_doms,
                .n_domains = n,
        };
        return 0;
}
