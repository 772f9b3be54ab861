/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sampler: every interval, how busy each node and each domain was and
 * where each domain's memory is, as the balancer's snapshot
 * (DESIGN "sampler -> snapshot -> balancer policy").
 *
 * Load is the average number of running + runnable threads over the
 * interval (seed 004's nr_running, but averaged, not one instant). The
 * scheduler keeps two counters that add up to exactly that, in ns:
 * time on a CPU and time waiting on a run queue
 * (Documentation/scheduler/sched-stats.rst). Their growth over an interval,
 * divided by its length, is the mean number of threads that were runnable.
 * Two sources, chosen at the first tick:
 *
 * - SCHEDSTAT: proc/schedstat, per CPU (fields 7 and 8 of each cpuN line:
 *   rq_cpu_time and run_delay). One read for the whole host, exact, but
 *   only on kernels with CONFIG_SCHEDSTATS.
 * - THREADS: every thread's proc/PID/task/TID/schedstat (sum_exec_runtime,
 *   run_delay, timeslices), which needs only CONFIG_SCHED_INFO (selected by
 *   CONFIG_TASK_DELAY_ACCT, as in Debian's kernels and this one, where
 *   proc/schedstat is missing), each thread counted on the node of the CPU
 *   it last ran on (proc/PID/task/TID/stat field 39, "processor",
 *   Documentation/filesystems/proc.rst table 1-4). Verified here: two busy
 *   loops on one CPU show run_delay growing as fast as run time, 1.0
 *   runnable each. It costs a directory walk of /proc and one small read
 *   per thread (plus the stat read for threads that ran):
 *   tests/bench/results/sample-cost-*.txt has the figures and the alternatives
 *   weighed (/proc/stat busy time saturates at one per CPU, procs_running
 *   is host-wide and instantaneous, state 'R' is an instant too).
 *
 * A domain's load is the same sum over the threads of its QEMU process.
 * Its memory per node comes from its memory cgroup's memory.numa_stat
 * (anonymous and unevictable pages in cgroup v1, anon + shmem in v2): a
 * few counters the kernel keeps anyway, where proc/PID/numa_maps walks
 * every page table under the mmap lock. Domains without a memory cgroup,
 * or backed by hugetlbfs (not charged to memcg), use the numa_maps figure
 * the domain table holds (domain_read_node_memory()).
 *
 * The sampler keeps every counter from the previous tick, so each tick
 * computes deltas; in steady state it allocates nothing and reads only
 * the files it needs, into buffers it reuses. Domains are known across
 * ticks by libvirt id and QEMU PID; balance_domain.id stays the same while
 * both do, and is never given to another domain. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "balance/policy.h"
#include "balance/topology.h"

struct domain;
struct kroot;

enum sampler_source {
        SAMPLER_SOURCE_AUTO = 0,   /* SCHEDSTAT if proc/schedstat parses, else THREADS */
        SAMPLER_SOURCE_SCHEDSTAT,
        SAMPLER_SOURCE_THREADS,
};

const char *sampler_source_to_string(enum sampler_source source);

/* What the last tick did, for logs, vmtunectl and the benchmark. */
struct sampler_stats {
        enum sampler_source source;  /* AUTO until the first tick chose */
        uint64_t interval_usec;      /* the last measured interval; 0 before it */
        size_t threads;              /* threads whose counters were read */
        size_t files;                /* kernel files read */
        size_t dirs_listed;          /* proc/PID/task directories listed */
        size_t domains_numa_stat;    /* domains whose memory came from memory.numa_stat */
        uint64_t cpu_usec;           /* CPU time the tick took (CLOCK_THREAD_CPUTIME_ID) */
        /* Files it would have kept open but opened and closed again: the
         * kept ones reached kept_limit, half of the soft RLIMIT_NOFILE when
         * the sampler was made (an fd limit below a systemd service's). */
        size_t unkept;
        size_t kept_limit;
};

struct sampler;

/* source: SAMPLER_SOURCE_AUTO in the daemon; tests and the benchmark may
 * force one. */
struct sampler *sampler_new(enum sampler_source source);
void sampler_free(struct sampler *s);

/* Read every counter at now_usec (CLOCK_MONOTONIC) for the domains doms[0..n).
 * root must be the same at every tick: the files read every tick
 * (proc/schedstat, each node's meminfo, the proc/ directory, and each
 * domain's proc/PID/task/ and its threads' schedstat, up to half of
 * RLIMIT_NOFILE) are opened once and kept, then read with pread
 * (kfile_open_kept()). A domain's task/ is listed again only when its link
 * count (one per thread) changed or a kept thread file fails to read; on a
 * host with proc/schedstat a steady tick costs one fstat and one pread per
 * thread of each domain, plus one read per node.
 * The first tick only sets the baseline. -EINVAL if now_usec does not
 * advance; -errno if proc or a node's meminfo cannot be read. A domain whose
 * process is gone is not an error (its load reads 0). After any error the
 * next tick starts a new baseline. */
int sampler_tick(struct sampler *s, const struct kroot *root, const struct topology *topo,
                 const struct domain *doms, size_t n, uint64_t now_usec);

/* The last tick's measurements as the balancer's snapshot: nodes with CPUs,
 * ascending id; domains in the order of doms, which must be the array the
 * last tick saw (-ESTALE if a domain differs, -EAGAIN before an interval
 * was measured). The arrays belong to the sampler and are reused: valid
 * until the next tick. Names are the sampler's copies (valid after the
 * domain table changes, until the next snapshot); reasons point into doms. */
int sampler_snapshot(const struct sampler *s, const struct topology *topo, const struct domain *doms,
                     size_t n, struct balance_snapshot *ret);

void sampler_get_stats(const struct sampler *s, struct sampler_stats *ret);

/* Forget the counters: the next tick sets a new baseline. For a balancer
 * that skipped ticks (nothing to decide): an interval that long would
 * average away what the policy needs to see now. */
void sampler_reset(struct sampler *s);

/* --- pure parsers, on buffers ------------------------------------------ */

struct sample_counters {
        uint64_t run_ns;       /* time on a CPU */
        uint64_t wait_ns;      /* time runnable, waiting for a CPU */
        uint64_t slices;       /* times it got a CPU */
};

/* proc/PID/task/TID/schedstat: "run_ns wait_ns slices". -EINVAL otherwise. */
int sample_parse_task_schedstat(const char *buf, struct sample_counters *ret);

/* proc/PID/task/TID/stat: the state letter (field 3) and the CPU it last
 * ran on (field 39). The comm may hold spaces and ')': fields are counted
 * from the last ')'. -EINVAL if the line is shorter. */
int sample_parse_task_stat(const char *buf, char *ret_state, unsigned *ret_cpu);

/* proc/schedstat, versions 15 to 17 (their cpuN lines are the same):
 * per_cpu[N] = fields 7 (run), 8 (wait) and 9 (slices) of line cpuN, for
 * N < n_cpus; other entries are zeroed, lines of higher CPUs ignored.
 * *ret_n: cpuN lines seen. -EPROTONOSUPPORT for another version, -EINVAL
 * if malformed. */
int sample_parse_schedstat(const char *buf, struct sample_counters *per_cpu, size_t n_cpus, size_t *ret_n);

/* A memory cgroup's memory.numa_stat, v1 (lines "anon=<pages> N0=<pages>
 * ...", Documentation/admin-guide/cgroup-v1/memory.rst 5.6) or v2 ("anon
 * N0=<bytes> ...", Documentation/admin-guide/cgroup-v2.rst): the guest's
 * memory per node in KiB into kib[node id]. v1: hierarchical_anon +
 * hierarchical_unevictable where present, else anon + unevictable (the
 * anon LRU holds shmem too; mlocked pages sit on the unevictable one);
 * v2: anon + shmem. Page cache is left out: it does not follow the VM.
 * -EINVAL if it is neither, -ERANGE for a node id >= TOPOLOGY_MAX_NODES. */
int sample_parse_numa_stat(const char *buf, uint64_t page_size, uint64_t kib[TOPOLOGY_MAX_NODES]);
