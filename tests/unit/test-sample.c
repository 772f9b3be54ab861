/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sample: the parsers on files captured from the dev VM (and, for what this
 * kernel cannot show, files written from the kernel's documentation:
 * tests/fixtures/sample/README), and the load math on fixture roots: two
 * ticks of proc files with known counter deltas must give known loads. The
 * roots are temporary trees whose sys/devices links to a nodes-N fixture. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "base/bitmap.h"
#include "base/procparse.h"
#include "balance/balancer.h"
#include "balance/sample.h"
#include "config/conf.h"
#include "testlib.h"
#include "balance/topology.h"
#include "base/util.h"

#define SEC UINT64_C(1000000000)  /* ns */
#define USEC_PER_SEC UINT64_C(1000000)
#define CG "sys/fs/cgroup/memory/machine/vm-a.libvirt-qemu"

static char *fixture(const char *name)
{
        _cleanup_free_ char *rel = xasprintf("tests/fixtures/sample/%s", name);
        char *s = tl_read(tl_srcdir(), rel);

        assert_non_null(s);
        return s;
}

/* --- parsers ------------------------------------------------------------- */

static void test_task_schedstat_parses_captured_counters(void **state)
{
        _cleanup_free_ char *buf = fixture("task-schedstat-vcpu");
        struct sample_counters c;

        assert_int_equal(sample_parse_task_schedstat(buf, &c), 0);
        assert_int_equal(c.run_ns, 2804052594);
        assert_int_equal(c.wait_ns, 2879154226);
        assert_int_equal(c.slices, 731);
        assert_int_equal(sample_parse_task_schedstat("1 2\n", &c), -EINVAL);
        assert_int_equal(sample_parse_task_schedstat("1 2 3 4\n", &c), -EINVAL);
        assert_int_equal(sample_parse_task_schedstat("a b c\n", &c), -EINVAL);
}

static void test_task_stat_finds_the_cpu_after_a_comm_with_spaces_and_parens(void **state)
{
        _cleanup_free_ char *vcpu = fixture("task-stat-vcpu");
        _cleanup_free_ char *parens = fixture("task-stat-parens");
        unsigned cpu = 99;
        char st = 0;

        assert_int_equal(sample_parse_task_stat(vcpu, &st, &cpu), 0);
        assert_int_equal(st, 'R');
        assert_int_equal(cpu, 1);
        cpu = 99;
        assert_int_equal(sample_parse_task_stat(parens, &st, &cpu), 0); /* comm "qemu (x) y" */
        assert_int_equal(st, 'S');
        assert_int_equal(cpu, 1);
        assert_int_equal(sample_parse_task_stat("1 (a) R 1 2 3\n", &st, &cpu), -EINVAL);
        assert_int_equal(sample_parse_task_stat("1 a R 1 2 3\n", &st, &cpu), -EINVAL);
}

static void test_schedstat_v15_and_v17_give_run_and_wait_per_cpu(void **state)
{
        _cleanup_free_ char *v15 = fixture("schedstat-v15");
        _cleanup_free_ char *v17 = fixture("schedstat-v17");
        struct sample_counters c[4];
        size_t seen;

        assert_int_equal(sample_parse_schedstat(v15, c, 4, &seen), 0);
        assert_int_equal(seen, 2);
        assert_int_equal(c[0].run_ns, 812345678901234);
        assert_int_equal(c[0].wait_ns, 123456789012);
        assert_int_equal(c[0].slices, 87654321);
        assert_int_equal(c[1].run_ns, 798765432109876);
        assert_int_equal(c[2].run_ns, 0);
        /* CPUs beyond the array are counted, not stored. */
        assert_int_equal(sample_parse_schedstat(v17, c, 2, &seen), 0);
        assert_int_equal(seen, 4);
        assert_int_equal(c[1].run_ns, 10 * SEC);
        assert_int_equal(sample_parse_schedstat(v17, c, 4, &seen), 0);
        assert_int_equal(c[3].run_ns, 20 * SEC);
        assert_int_equal(c[3].wait_ns, 4 * SEC);
}

static void test_schedstat_of_another_version_or_shape_is_refused(void **state)
{
        struct sample_counters c[1];
        size_t seen;

        assert_int_equal(sample_parse_schedstat("version 14\ncpu0 1 2 3 4 5 6 7 8 9\n", c, 1, &seen),
                         -EPROTONOSUPPORT);
        assert_int_equal(sample_parse_schedstat("version 18\ncpu0 1 2 3 4 5 6 7 8 9\n", c, 1, &seen),
                         -EPROTONOSUPPORT);
        assert_int_equal(sample_parse_schedstat("cpu0 1 2 3 4 5 6 7 8 9\n", c, 1, &seen), -EPROTONOSUPPORT);
        assert_int_equal(sample_parse_schedstat("version 15\ncpu0 1 2 3 4 5 6 7 8\n", c, 1, &seen), -EINVAL);
        assert_int_equal(sample_parse_schedstat("", c, 1, &seen), -EINVAL);
}

static void test_numa_stat_v1_captured_counts_anon_pages(void **state)
{
        _cleanup_free_ char *buf = fixture("numa_stat-v1");
        uint64_t kib[TOPOLOGY_MAX_NODES];

        assert_int_equal(sample_parse_numa_stat(buf, 4096, kib), 0);
        assert_int_equal(kib[0], 16413 * 4);
        assert_int_equal(kib[1], 0);
}

static void test_numa_stat_v1_prefers_hierarchical_counters(void **state)
{
        const char *buf = "total=9 N0=9 N1=0\n"
                          "anon=1 N0=1 N1=0\n"
                          "unevictable=0 N0=0 N1=0\n"
                          "hierarchical_total=270000 N0=204000 N1=66000\n"
                          "hierarchical_anon=262144 N0=196608 N1=65536\n"
                          "hierarchical_unevictable=256 N0=256 N1=0\n";
        uint64_t kib[TOPOLOGY_MAX_NODES];

        assert_int_equal(sample_parse_numa_stat(buf, 4096, kib), 0);
        assert_int_equal(kib[0], (196608 + 256) * 4);
        assert_int_equal(kib[1], 65536 * 4);
}

static void test_numa_stat_v2_counts_anon_and_shmem_bytes(void **state)
{
        _cleanup_free_ char *buf = fixture("numa_stat-v2");
        uint64_t kib[TOPOLOGY_MAX_NODES];

        /* anon_thp, inactive_anon and file are not added on top. */
        assert_int_equal(sample_parse_numa_stat(buf, 4096, kib), 0);
        assert_int_equal(kib[0], (1073741824 + 268435456) / 1024);
        assert_int_equal(kib[1], 536870912 / 1024);
}

static void test_numa_stat_agrees_with_numa_maps_of_the_same_process(void **state)
{
        _cleanup_free_ char *stat = fixture("numa_stat-v1");
        _cleanup_free_ char *maps = fixture("numa_maps");
        _cleanup_free_ uint64_t *maps_kib = NULL;
        uint64_t kib[TOPOLOGY_MAX_NODES];
        size_t n;

        /* Captured together: 64 MiB touched. numa_maps adds the mapped
         * libraries (page cache), which memory.numa_stat's anon leaves out. */
        assert_int_equal(sample_parse_numa_stat(stat, 4096, kib), 0);
        assert_int_equal(procparse_numa_maps(maps, &maps_kib, &n), 0);
        assert_int_equal(n, 1);
        assert_true(kib[0] >= 64 * 1024);
        assert_true(maps_kib[0] >= kib[0]);
        assert_true(maps_kib[0] - kib[0] < 4 * 1024);
}

static void test_captured_qemu_domain_files_parse(void **state)
{
        _cleanup_free_ char *stat = fixture("numa_stat-v1-qemu");
        _cleanup_free_ char *maps = fixture("numa_maps-qemu");
        _cleanup_free_ char *tstat = fixture("task-stat-qemu-vcpu");
        _cleanup_free_ char *sched = fixture("task-schedstat-qemu-vcpu");
        _cleanup_free_ uint64_t *maps_kib = NULL;
        uint64_t kib[TOPOLOGY_MAX_NODES];
        struct sample_counters c;
        unsigned cpu;
        size_t n;
        char st;

        assert_int_equal(sample_parse_numa_stat(stat, 4096, kib), 0);
        assert_int_equal(kib[0], 42306 * 4);
        assert_int_equal(procparse_numa_maps(maps, &maps_kib, &n), 0);
        /* The process's private memory (the mover's measure) and the
         * cgroup's anonymous memory (the sampler's): 168000 against
         * 169224 KiB in this capture. Within 2 %, so the two agree on
         * what is remote. */
        assert_true(maps_kib[0] * 50 > kib[0] * 49 && maps_kib[0] * 50 < kib[0] * 51);
        assert_int_equal(sample_parse_task_stat(tstat, &st, &cpu), 0);
        assert_int_equal(st, 'R');
        assert_int_equal(cpu, 1);
        assert_int_equal(sample_parse_task_schedstat(sched, &c), 0);
        assert_int_equal(c.run_ns, 152382565606);
        assert_true(c.wait_ns > c.run_ns);
}

static void test_numa_stat_rejects_garbage_and_high_nodes(void **state)
{
        uint64_t kib[TOPOLOGY_MAX_NODES] = { 0 };

        assert_int_equal(sample_parse_numa_stat("hello\n", 4096, kib), -EINVAL);
        assert_int_equal(sample_parse_numa_stat("anon=1 N64=1\n", 4096, kib), -ERANGE);
        assert_int_equal(sample_parse_numa_stat("anon=1 N0=x\n", 4096, kib), -EINVAL);
        assert_int_equal(sample_parse_numa_stat("anon N0=1 X\n", 4096, kib), -EINVAL);
}

/* --- fixture roots ---------------------------------------------------- */

struct root {
        char *dir;
        struct kroot kroot;
        struct topology *topo;
        struct sampler *s;
};

static void root_open(struct root *r, const char *nodes, enum sampler_source source)
{
        _cleanup_free_ char *target = xasprintf("%s/tests/fixtures/%s/sys", tl_srcdir(), nodes);
        char *cp[] = { "/bin/cp", "-R", target, NULL, NULL };

        r->dir = tl_mkdtemp("sample");
        /* A copy, not a link: kfile follows no symlink out of the root. */
        cp[3] = r->dir;
        assert_int_equal(tl_run(cp, NULL), 0);
        tl_write(r->dir, "proc/uptime", "1.00 1.00\n"); /* a proc/ without processes */
        assert_int_equal(kroot_open(r->dir, false, &r->kroot), 0);
        assert_int_equal(topology_read(&r->kroot, &r->topo), 0);
        r->s = sampler_new(source);
}

static void root_close(struct root *r)
{
        sampler_free(r->s);
        topology_free(r->topo);
        kroot_close(&r->kroot);
        tl_rm_rf(r->dir);
        free(r->dir);
}

/* A thread's schedstat and stat (state R, last on cpu). */
static void put_thread(const struct root *r, int pid, int tid, uint64_t run_ns, uint64_t wait_ns, unsigned cpu)
{
        char rel[128], line[512];
        int len;

        snprintf(rel, sizeof(rel), "proc/%d/task/%d/schedstat", pid, tid);
        snprintf(line, sizeof(line), "%llu %llu %llu\n", (unsigned long long) run_ns,
                 (unsigned long long) wait_ns, (unsigned long long) run_ns / 1000000);
        tl_write(r->dir, rel, line);
        /* Fields 4-38 zero, 39 the CPU, 40-52 zero; the comm has a space. */
        len = snprintf(line, sizeof(line), "%d (t %d) R", tid, tid);
        for (unsigned field = 4; field <= 52; field++)
                len += snprintf(line + len, sizeof(line) - (size_t) len, " %u", field == 39 ? cpu : 0);
        snprintf(line + len, sizeof(line) - (size_t) len, "\n");
        snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, tid);
        tl_write(r->dir, rel, line);
}

static struct domain dom(const char *name, int id, pid_t pid)
{
        return (struct domain){ .name = (char *) name, .id = id, .pid = pid, .n_vcpus = 2,
                                .memory_kib = UINT64_C(4) << 20, .movable = true };
}

static int tick(struct root *r, const struct domain *doms, size_t n, unsigned sec)
{
        return sampler_tick(r->s, &r->kroot, r->topo, doms, n, sec * USEC_PER_SEC);
}

static void snap(struct root *r, const struct domain *doms, size_t n, struct balance_snapshot *ret)
{
        assert_int_equal(sampler_snapshot(r->s, r->topo, doms, n, ret), 0);
        assert_int_equal(ret->n_domains, n);
}

static const struct balance_node *node_of(const struct balance_snapshot *s, unsigned id)
{
        for (size_t i = 0; i < s->n_nodes; i++)
                if (s->nodes[i].id == id)
                        return &s->nodes[i];
        fail_msg("node %u not in the snapshot", id);
        return NULL;
}

/* Two QEMU processes and a host process on nodes-2 (node0: CPUs 0-7,16-23;
 * node1: 8-15,24-31); tick 1 at 1 s. */
static void put_tick1(struct root *r)
{
        put_thread(r, 100, 100, 1 * SEC, 0, 0);            /* vm-a: emulator */
        put_thread(r, 100, 101, 10 * SEC, 2 * SEC, 2);     /* vm-a: vCPU 0 */
        put_thread(r, 100, 102, 3 * SEC, 1 * SEC, 9);      /* vm-a: vCPU 1 */
        put_thread(r, 200, 200, 1 * SEC, 0, 0);            /* vm-b */
        put_thread(r, 200, 201, 20 * SEC, 20 * SEC, 17);
        put_thread(r, 300, 300, 5 * SEC, 5 * SEC, 30);     /* not a VM */
}

/* Tick 2, 5 s later: known deltas, as average runnable threads. */
static void put_tick2(struct root *r)
{
        put_thread(r, 100, 100, 1 * SEC, 0, 31);           /* asleep: its CPU is irrelevant */
        put_thread(r, 100, 101, 14 * SEC, 3 * SEC, 2);     /* +5 s: 1.0 on node0 */
        put_thread(r, 100, 102, 5500000000, 1 * SEC, 9);   /* +2.5 s: 0.5 on node1 */
        put_thread(r, 200, 201, 25 * SEC, 25 * SEC, 17);   /* +10 s: 2.0 on node0 */
        put_thread(r, 200, 202, 500000000, 0, 3);          /* born since: all 0.5 s, 0.1 on node0 */
        put_thread(r, 300, 300, 6 * SEC, 6500000000, 30);  /* +2.5 s: 0.5 on node1 */
}

static void test_threads_source_averages_run_and_wait_over_the_interval(void **state)
{
        struct domain doms[2] = { dom("vm-a", 1, 100), dom("vm-b", 2, 200) };
        uint64_t vm_b_mem[2] = { 1 << 20, 3 << 20 };
        struct balance_snapshot s;
        struct sampler_stats st;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_AUTO);
        doms[0].cgroup_memory = (char *) CG;
        bitmap_set(&doms[0].cpu_nodes, 0);
        doms[1].node_memory_kib = vm_b_mem;
        doms[1].n_node_memory = 2;
        doms[1].movable = false;
        doms[1].reason = (char *) "static <vcpupin>";
        tl_write(r.dir, CG "/memory.numa_stat",
                 "anon=1 N0=1 N1=0\nhierarchical_anon=196608 N0=131072 N1=65536\n");
        put_tick1(&r);
        assert_int_equal(tick(&r, doms, 2, 1), 0);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 2, &s), -EAGAIN);
        put_tick2(&r);
        assert_int_equal(tick(&r, doms, 2, 6), 0);
        snap(&r, doms, 2, &s);

        assert_int_equal(s.n_nodes, 2);
        assert_float_equal(node_of(&s, 0)->nr_running, 3.1, 1e-9);
        assert_float_equal(node_of(&s, 1)->nr_running, 1.0, 1e-9);
        assert_int_equal(node_of(&s, 0)->cpus, 16);
        assert_int_equal(node_of(&s, 0)->mem_total_mib, 65830400 / 1024);
        assert_int_equal(node_of(&s, 0)->mem_free_mib, (40123456 + 2048000) / 1024); /* MemFree + Inactive(file) */
        assert_int_equal(node_of(&s, 1)->distance[0], 21);
        assert_float_equal(s.domains[0].load, 1.5, 1e-9);
        assert_float_equal(s.domains[1].load, 2.1, 1e-9);
        assert_string_equal(s.domains[0].name, "vm-a");
        assert_int_equal(s.domains[0].mem_mib[0], 512);   /* hierarchical_anon, 4 KiB pages */
        assert_int_equal(s.domains[0].mem_mib[1], 256);
        assert_int_equal(s.domains[1].mem_mib[0], 1024);  /* numa_maps figure of the table */
        assert_int_equal(s.domains[1].mem_mib[1], 3072);
        assert_int_equal(s.domains[0].mem_size_mib, 4096);
        assert_int_equal(s.domains[0].cpu_nodes, BALANCE_NODE_BIT(0));
        assert_true(s.domains[0].movable);
        assert_false(s.domains[1].movable);
        assert_string_equal(s.domains[1].not_movable_reason, "static <vcpupin>");
        assert_int_not_equal(s.domains[0].id, s.domains[1].id);
        assert_int_equal(s.domains[0].share_group, 0);    /* no share key: shares with none */
        /* KSM groups: equal share keys, equal nonzero groups; others differ */
        doms[0].share_key = doms[1].share_key = (char *) "image:/img/golden.qcow2";
        snap(&r, doms, 2, &s);
        assert_int_not_equal(s.domains[0].share_group, 0);
        assert_int_equal(s.domains[0].share_group, s.domains[1].share_group);
        doms[1].share_key = (char *) "image:/img/other.qcow2";
        snap(&r, doms, 2, &s);
        assert_int_not_equal(s.domains[0].share_group, s.domains[1].share_group);

        sampler_get_stats(r.s, &st);
        assert_int_equal(st.source, SAMPLER_SOURCE_THREADS);
        assert_int_equal(st.interval_usec, 5 * USEC_PER_SEC);
        assert_int_equal(st.threads, 7); /* vm-b's idle main thread too */
        assert_int_equal(st.domains_numa_stat, 1);
        bitmap_done(&doms[0].cpu_nodes);
        root_close(&r);
}

static void put_schedstat(const struct root *r, const uint64_t run[32], const uint64_t wait[32])
{
        char buf[8192];
        int len = snprintf(buf, sizeof(buf), "version 15\ntimestamp 4299481327\n");

        for (unsigned cpu = 0; cpu < 32; cpu++)
                len += snprintf(buf + len, sizeof(buf) - (size_t) len, "cpu%u 0 0 1 1 1 1 %llu %llu 1\n"
                                "domain0 00000003 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
                                cpu, (unsigned long long) run[cpu], (unsigned long long) wait[cpu]);
        tl_write(r->dir, "proc/schedstat", buf);
}

static void test_schedstat_source_reads_cpus_and_only_the_domains_threads(void **state)
{
        struct domain doms[1] = { dom("vm-a", 1, 100) };
        uint64_t run[32] = { 0 }, wait[32] = { 0 };
        struct domain later[2] = { dom("vm-a", 1, 100), dom("vm-b", 2, 200) };
        struct balance_snapshot s;
        struct sampler_stats st;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_AUTO);
        run[0] = 7 * SEC;
        put_schedstat(&r, run, wait);
        put_tick1(&r);
        assert_int_equal(tick(&r, doms, 1, 1), 0);
        run[0] += 3 * SEC;   /* node0: 1.0 */
        wait[0] += 2 * SEC;
        run[16] += 5 * SEC;  /* node0: 2.0 */
        wait[16] += 5 * SEC;
        run[8] += 2500000000; /* node1: 0.5 */
        put_schedstat(&r, run, wait);
        put_tick2(&r);
        assert_int_equal(tick(&r, doms, 1, 6), 0);
        snap(&r, doms, 1, &s);
        assert_float_equal(node_of(&s, 0)->nr_running, 3.0, 1e-9);
        assert_float_equal(node_of(&s, 1)->nr_running, 0.5, 1e-9);
        assert_float_equal(s.domains[0].load, 1.5, 1e-9);
        sampler_get_stats(r.s, &st);
        assert_int_equal(st.source, SAMPLER_SOURCE_SCHEDSTAT);
        assert_int_equal(st.threads, 3);  /* vm-a's only: no walk of every process */

        /* A domain first seen now has no baseline here: load 0 until the
         * next tick, which measures it. */
        put_thread(&r, 200, 201, 30 * SEC, 25 * SEC, 17);
        assert_int_equal(tick(&r, later, 2, 11), 0);
        snap(&r, later, 2, &s);
        assert_float_equal(s.domains[1].load, 0.0, 1e-9);
        put_thread(&r, 200, 201, 35 * SEC, 25 * SEC, 17);
        assert_int_equal(tick(&r, later, 2, 16), 0);
        snap(&r, later, 2, &s);
        assert_float_equal(s.domains[1].load, 1.0, 1e-9);
        root_close(&r);
}

static void test_domain_that_disappears_between_ticks_is_dropped_and_its_id_not_reused(void **state)
{
        struct domain both[2] = { dom("vm-a", 1, 100), dom("vm-b", 2, 200) };
        struct domain a_only[1] = { dom("vm-a", 1, 100) };
        struct domain a_and_c[2] = { dom("vm-a", 1, 100), dom("vm-c", 3, 300) };
        struct domain b_restarted[1] = { dom("vm-b", 2, 400) };
        _cleanup_free_ char *gone = NULL;
        unsigned id_a, id_b;
        struct balance_snapshot s;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_THREADS);
        gone = xasprintf("%s/proc/200", r.dir);
        put_tick1(&r);
        assert_int_equal(tick(&r, both, 2, 1), 0);
        put_tick2(&r);
        assert_int_equal(tick(&r, both, 2, 6), 0);
        snap(&r, both, 2, &s);
        id_a = s.domains[0].id;
        id_b = s.domains[1].id;

        /* vm-b's process exits while the table still lists it: load 0. */
        tl_rm_rf(gone);
        assert_int_equal(tick(&r, both, 2, 11), 0);
        snap(&r, both, 2, &s);
        assert_float_equal(s.domains[1].load, 0.0, 1e-9);
        assert_int_equal(s.domains[1].id, id_b);

        /* Then the table drops it: vm-a keeps its id, node loads hold vm-a's
         * threads only (vCPU 0 +1 s = 0.2 on node0). */
        put_thread(&r, 100, 101, 15 * SEC, 3 * SEC, 2);
        assert_int_equal(tick(&r, a_only, 1, 16), 0);
        snap(&r, a_only, 1, &s);
        assert_int_equal(s.domains[0].id, id_a);
        assert_float_equal(node_of(&s, 0)->nr_running, 0.2, 1e-9);
        assert_float_equal(s.domains[0].load, 0.2, 1e-9);

        /* A new domain and a restarted one (same libvirt id, new PID) get
         * new ids, never a departed domain's. */
        assert_int_equal(tick(&r, a_and_c, 2, 21), 0);
        snap(&r, a_and_c, 2, &s);
        assert_int_equal(s.domains[0].id, id_a);
        assert_int_not_equal(s.domains[1].id, id_a);
        assert_int_not_equal(s.domains[1].id, id_b);
        assert_int_equal(tick(&r, b_restarted, 1, 26), 0);
        snap(&r, b_restarted, 1, &s);
        assert_int_not_equal(s.domains[0].id, id_b);
        root_close(&r);
}

static void test_reused_tid_counts_all_of_the_new_threads_time(void **state)
{
        struct balance_snapshot s;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_THREADS);
        put_thread(&r, 300, 301, 50 * SEC, 10 * SEC, 8);
        assert_int_equal(tick(&r, NULL, 0, 1), 0);
        /* Counters went back: tid 301 is another thread now, born within
         * the interval; its 1 s is all new (0.2 over 5 s), not -59 s. */
        put_thread(&r, 300, 301, 1 * SEC, 0, 8);
        assert_int_equal(tick(&r, NULL, 0, 6), 0);
        snap(&r, NULL, 0, &s);
        assert_float_equal(node_of(&s, 1)->nr_running, 0.2, 1e-9);
        assert_float_equal(node_of(&s, 0)->nr_running, 0.0, 1e-9);
        root_close(&r);
}

static void test_snapshot_is_refused_before_an_interval_or_for_other_domains(void **state)
{
        struct domain doms[1] = { dom("vm-a", 1, 100) };
        struct domain other[1] = { dom("vm-a", 1, 101) };
        struct balance_snapshot s;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_THREADS);
        put_tick1(&r);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 1, &s), -EAGAIN);
        assert_int_equal(tick(&r, doms, 1, 1), 0);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 1, &s), -EAGAIN);
        assert_int_equal(tick(&r, doms, 1, 1), -EINVAL);  /* time must advance */
        assert_int_equal(tick(&r, doms, 1, 2), 0);
        assert_int_equal(sampler_snapshot(r.s, r.topo, other, 1, &s), -ESTALE);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 0, &s), -ESTALE);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 1, &s), 0);
        root_close(&r);
}

/* vmtunectl plan prints the last snapshot between ticks, after the domain
 * table may have freed a stopped domain's name: the snapshot keeps its own. */
static void test_snapshot_names_outlive_the_domain_table(void **state)
{
        _cleanup_free_ char *name = xstrdup("vm-a");
        struct domain doms[1] = { dom(name, 1, 100) };
        struct balance_snapshot s;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_THREADS);
        put_tick1(&r);
        assert_int_equal(tick(&r, doms, 1, 1), 0);
        assert_int_equal(tick(&r, doms, 1, 2), 0);
        snap(&r, doms, 1, &s);
        name[0] = 'X';          /* the table's copy changes, then goes */
        free(name);
        name = NULL;
        assert_string_equal(s.domains[0].name, "vm-a");
        root_close(&r);
}

/* Node 0 with CPUs 0-1, node 1 with memory only. */
static void put_cpu_node_and_memory_node(const char *dir)
{
        tl_write(dir, "sys/devices/system/node/online", "0-1\n");
        tl_write(dir, "sys/devices/system/node/node0/cpulist", "0-1\n");
        tl_write(dir, "sys/devices/system/node/node1/cpulist", "\n");
        tl_write(dir, "sys/devices/system/node/node0/distance", "10 20\n");
        tl_write(dir, "sys/devices/system/node/node1/distance", "20 10\n");
        tl_write(dir, "sys/devices/system/node/node0/meminfo", "Node 0 MemTotal: 2048 kB\nNode 0 MemFree: 1024 kB\n");
        tl_write(dir, "sys/devices/system/node/node1/meminfo", "Node 1 MemTotal: 4096 kB\nNode 1 MemFree: 4096 kB\n");
}

static void test_memory_only_node_is_left_out_of_the_snapshot(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("sample");
        struct sampler *smp = sampler_new(SAMPLER_SOURCE_THREADS);
        struct balance_snapshot s;
        struct topology *t = NULL;
        struct kroot root;

        put_cpu_node_and_memory_node(dir);
        tl_write(dir, "proc/uptime", "1.00 1.00\n");
        assert_int_equal(kroot_open(dir, false, &root), 0);
        assert_int_equal(topology_read(&root, &t), 0);
        assert_int_equal(sampler_tick(smp, &root, t, NULL, 0, 1), 0);
        assert_int_equal(sampler_tick(smp, &root, t, NULL, 0, 2), 0);
        assert_int_equal(sampler_snapshot(smp, t, NULL, 0, &s), 0);
        assert_int_equal(s.n_nodes, 1);
        assert_int_equal(s.nodes[0].id, 0);
        assert_int_equal(s.nodes[0].mem_total_mib, 2);
        sampler_free(smp);
        topology_free(t);
        kroot_close(&root);
        tl_rm_rf(dir);
}

/* --- kept-open files, reset, the idle balancer (issue 15) ------------- */

/* A file kfile_open_kept() opened is read again through its fd: with its
 * path gone, a read by path would fail; the kept fd sees the new contents. */
static void test_kept_file_is_read_again_from_its_start_without_opening(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("sample");
        _cleanup_free_ char *path = NULL;
        struct kroot root;
        char buf[64];
        FILE *w;
        int fd;

        tl_write(dir, "proc/schedstat", "version 15\n");
        assert_int_equal(kroot_open(dir, false, &root), 0);
        assert_int_equal(kfile_open_kept(&root, "proc/missing"), -ENOENT);
        assert_int_equal(kfile_open_kept(&root, "proc/../proc/schedstat"), -EINVAL);
        fd = kfile_open_kept(&root, "proc/schedstat");
        assert_true(fd >= 0);
        assert_int_equal(kfile_pread(fd, buf, sizeof(buf)), 11);
        assert_string_equal(buf, "version 15\n");
        assert_int_equal(kfile_pread(fd, buf, sizeof(buf)), 11);  /* again from offset 0 */
        assert_int_equal(kfile_pread(fd, buf, 12), 11);
        assert_int_equal(kfile_pread(fd, buf, 11), -E2BIG);

        path = xasprintf("%s/proc/schedstat", dir);
        w = fopen(path, "w");  /* the same inode, truncated */
        assert_non_null(w);
        assert_int_equal(unlink(path), 0);
        assert_true(fputs("version 17\ncpu0 1\n", w) >= 0);
        assert_int_equal(fclose(w), 0);
        assert_int_equal(kfile_pread(fd, buf, sizeof(buf)), 18);
        assert_string_equal(buf, "version 17\ncpu0 1\n");
        /* One read: an exact fit cannot be told from a longer file. */
        memset(buf, 0, sizeof(buf));
        assert_int_equal(kfile_pread_once(fd, buf, 20), 18);
        assert_string_equal(buf, "version 17\ncpu0 1\n");
        assert_int_equal(kfile_pread_once(fd, buf, 19), -E2BIG);
        close(fd);
        kroot_close(&root);
        tl_rm_rf(dir);
}

/* proc/schedstat is opened at the first tick and kept: the second reads
 * it through the same fd, here after its path is gone. */
static void test_sampler_reads_proc_schedstat_through_the_fd_it_kept(void **state)
{
        uint64_t run[32] = { 0 }, wait[32] = { 0 };
        _cleanup_free_ char *path = NULL;
        struct balance_snapshot s;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_SCHEDSTAT);
        put_schedstat(&r, run, wait);
        assert_int_equal(tick(&r, NULL, 0, 1), 0);
        run[8] = 5 * SEC;  /* node1: 1.0 over 5 s */
        put_schedstat(&r, run, wait);  /* in place: the same inode */
        path = xasprintf("%s/proc/schedstat", r.dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(tick(&r, NULL, 0, 6), 0);
        snap(&r, NULL, 0, &s);
        assert_float_equal(node_of(&s, 1)->nr_running, 1.0, 1e-9);
        assert_float_equal(node_of(&s, 0)->nr_running, 0.0, 1e-9);
        root_close(&r);
}

/* Open file descriptors of this process. */
static unsigned count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        unsigned n = 0;

        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n - 3;  /* ".", ".." and d's own */
}

/* A domain's threads are read through fds the sampler keeps: a thread
 * whose schedstat path is gone (fixture stand-in for "not opened again")
 * still counts, task/ is listed again only when its link count (one per
 * thread) changes, and a thread gone from task/ has its fd closed. */
static void test_domain_threads_are_read_through_kept_fds_closed_when_gone(void **state)
{
        struct domain doms[1] = { dom("vm-a", 1, 100) };
        uint64_t run[32] = { 0 }, wait[32] = { 0 };
        _cleanup_free_ char *path = NULL, *task = NULL;
        struct balance_snapshot s;
        struct sampler_stats st;
        struct root r = { 0 };
        unsigned fds;

        root_open(&r, "nodes-2", SAMPLER_SOURCE_SCHEDSTAT);
        put_schedstat(&r, run, wait);
        put_tick1(&r);
        assert_int_equal(tick(&r, doms, 1, 1), 0);
        fds = count_fds();
        put_thread(&r, 100, 101, 15 * SEC, 2 * SEC, 2);  /* +5 s: 1.0, in place */
        path = xasprintf("%s/proc/100/task/101/schedstat", r.dir);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(tick(&r, doms, 1, 6), 0);
        snap(&r, doms, 1, &s);
        assert_float_equal(s.domains[0].load, 1.0, 1e-9);
        assert_int_equal(count_fds(), fds);  /* nothing opened, nothing leaked */
        sampler_get_stats(r.s, &st);
        assert_int_equal(st.dirs_listed, 0);  /* the same threads: task/ not listed again */
        assert_int_equal(st.threads, 3);

        /* A thread more changes task/'s link count: listed, counted. */
        put_thread(&r, 100, 103, 1 * SEC, 0, 9);
        assert_int_equal(tick(&r, doms, 1, 11), 0);
        sampler_get_stats(r.s, &st);
        assert_int_equal(st.dirs_listed, 1);
        assert_int_equal(st.threads, 4);
        snap(&r, doms, 1, &s);
        assert_float_equal(s.domains[0].load, 0.2, 1e-9);  /* born since: all of its 1 s */
        assert_int_equal(count_fds(), fds + 1);

        task = xasprintf("%s/proc/100/task/102", r.dir);
        tl_rm_rf(task);
        assert_int_equal(tick(&r, doms, 1, 16), 0);
        sampler_get_stats(r.s, &st);
        assert_int_equal(st.dirs_listed, 1);
        assert_int_equal(st.threads, 3);
        assert_int_equal(count_fds(), fds);
        sampler_reset(r.s);  /* task/ and the 3 threads' files */
        assert_int_equal(count_fds(), fds - 4);
        root_close(&r);
}

/* Half of the soft RLIMIT_NOFILE (read when the sampler is made) may stay
 * open; past it, files are opened and closed again each tick, and the
 * stats say how many, for vmtunectl status. A domain of 40 threads under
 * a soft limit of 64: task/ and 31 threads kept, 9 reopened every tick. */
static void test_files_past_half_the_fd_limit_are_reopened_and_counted(void **state)
{
        struct domain doms[1] = { dom("vm-a", 1, 100) };
        uint64_t run[32] = { 0 }, wait[32] = { 0 };
        struct rlimit was, low;
        struct sampler_stats st;
        struct root r = { 0 };

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &was), 0);
        low = (struct rlimit){ .rlim_cur = 64, .rlim_max = was.rlim_max };
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        root_open(&r, "nodes-2", SAMPLER_SOURCE_SCHEDSTAT);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &was), 0);
        put_schedstat(&r, run, wait);
        for (int tid = 100; tid < 140; tid++)
                put_thread(&r, 100, tid, 1 * SEC, 0, 2);
        for (unsigned t = 1; t <= 6; t += 5) {
                assert_int_equal(tick(&r, doms, 1, t), 0);
                sampler_get_stats(r.s, &st);
                assert_int_equal(st.threads, 40);
                assert_int_equal(st.kept_limit, 32);
                assert_int_equal(st.unkept, 9);
        }
        root_close(&r);
}

static void test_reset_makes_the_next_tick_a_baseline(void **state)
{
        struct domain doms[1] = { dom("vm-a", 1, 100) };
        struct balance_snapshot s;
        struct root r = { 0 };

        root_open(&r, "nodes-2", SAMPLER_SOURCE_THREADS);
        put_tick1(&r);
        assert_int_equal(tick(&r, doms, 1, 1), 0);
        put_tick2(&r);
        assert_int_equal(tick(&r, doms, 1, 6), 0);
        snap(&r, doms, 1, &s);
        sampler_reset(r.s);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 1, &s), -EAGAIN);
        /* Ten minutes later: a baseline, not one long average. */
        assert_int_equal(tick(&r, doms, 1, 600), 0);
        assert_int_equal(sampler_snapshot(r.s, r.topo, doms, 1, &s), -EAGAIN);
        put_thread(&r, 100, 101, 19 * SEC, 3 * SEC, 2);  /* +5 s over 5 s */
        assert_int_equal(tick(&r, doms, 1, 605), 0);
        snap(&r, doms, 1, &s);
        assert_float_equal(s.domains[0].load, 1.0, 1e-9);
        root_close(&r);
}

/* What `vmtunectl status` prints of the balancer's sampling. */
static char *sampling_line(const struct balancer *b, bool json)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        balancer_print_sampling(b, f, json);
        assert_int_equal(fclose(f), 0);
        return text;
}

/* One node with CPUs (a memory-only node beside it changes nothing): no
 * timer at all, said in status; two: a timer, nothing sampled yet. */
static void test_balancer_on_one_cpu_node_never_ticks(void **state)
{
        const struct balancer_conf conf = { .enabled = true, .interval_sec = 5, .max_moves_per_tick = 1 };
        _cleanup_free_ char *dir = tl_mkdtemp("sample");
        _cleanup_free_ char *text = NULL, *json = NULL;
        struct balancer *b = NULL;
        struct kroot root;
        sd_event *e = NULL;

        assert_int_equal(sd_event_new(&e), 0);
        put_cpu_node_and_memory_node(dir);
        assert_int_equal(kroot_open(dir, false, &root), 0);
        assert_int_equal(balancer_new(e, &root, NULL, &conf, &b), 0);
        text = sampling_line(b, false);
        assert_string_equal(text, "idle: one NUMA node: nothing to balance");
        json = sampling_line(b, true);
        assert_non_null(strstr(json, "{\"idle\":\"one NUMA node: nothing to balance\","));
        balancer_free(b);
        b = NULL;

        tl_write(dir, "sys/devices/system/node/node1/cpulist", "2-3\n");
        assert_int_equal(balancer_new(e, &root, NULL, &conf, &b), 0);
        free(text);
        text = sampling_line(b, false);
        assert_string_equal(text, "no tick yet");
        balancer_free(b);
        kroot_close(&root);
        sd_event_unref(e);
        tl_rm_rf(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_task_schedstat_parses_captured_counters),
                cmocka_unit_test(test_task_stat_finds_the_cpu_after_a_comm_with_spaces_and_parens),
                cmocka_unit_test(test_schedstat_v15_and_v17_give_run_and_wait_per_cpu),
                cmocka_unit_test(test_schedstat_of_another_version_or_shape_is_refused),
                cmocka_unit_test(test_numa_stat_v1_captured_counts_anon_pages),
                cmocka_unit_test(test_numa_stat_v1_prefers_hierarchical_counters),
                cmocka_unit_test(test_numa_stat_v2_counts_anon_and_shmem_bytes),
                cmocka_unit_test(test_numa_stat_agrees_with_numa_maps_of_the_same_process),
                cmocka_unit_test(test_captured_qemu_domain_files_parse),
                cmocka_unit_test(test_numa_stat_rejects_garbage_and_high_nodes),
                cmocka_unit_test(test_threads_source_averages_run_and_wait_over_the_interval),
                cmocka_unit_test(test_schedstat_source_reads_cpus_and_only_the_domains_threads),
                cmocka_unit_test(test_domain_that_disappears_between_ticks_is_dropped_and_its_id_not_reused),
                cmocka_unit_test(test_reused_tid_counts_all_of_the_new_threads_time),
                cmocka_unit_test(test_snapshot_is_refused_before_an_interval_or_for_other_domains),
                cmocka_unit_test(test_snapshot_names_outlive_the_domain_table),
                cmocka_unit_test(test_memory_only_node_is_left_out_of_the_snapshot),
                cmocka_unit_test(test_kept_file_is_read_again_from_its_start_without_opening),
                cmocka_unit_test(test_sampler_reads_proc_schedstat_through_the_fd_it_kept),
                cmocka_unit_test(test_domain_threads_are_read_through_kept_fds_closed_when_gone),
                cmocka_unit_test(test_files_past_half_the_fd_limit_are_reopened_and_counted),
                cmocka_unit_test(test_reset_makes_the_next_tick_a_baseline),
                cmocka_unit_test(test_balancer_on_one_cpu_node_never_ticks),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
