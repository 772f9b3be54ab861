/* SPDX-License-Identifier: GPL-2.0-or-later */
/* topology: nodes, CPUs, memory and distances read through the root prefix
 * from the 2-, 4- and 8-node fixture trees (tests/fixtures/nodes-N), and
 * from temporary trees for the odd cases (sparse node ids, memory-only
 * nodes, a kernel without NUMA, broken files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/kfile.h"
#include "testlib.h"
#include "balance/topology.h"
#include "base/util.h"

#define NODE_DIR "sys/devices/system/node"

static struct topology *read_fixture(const char *name)
{
        _cleanup_free_ char *path = xasprintf("%s/tests/fixtures/%s", tl_srcdir(), name);
        struct kroot root;
        struct topology *t = NULL;

        assert_int_equal(kroot_open(path, false, &root), 0);
        assert_int_equal(topology_read(&root, &t), 0);
        kroot_close(&root);
        return t;
}

/* topology_read on a temporary tree; the return value. */
static int read_tree(const char *dir, struct topology **ret)
{
        struct kroot root;
        int r;

        assert_int_equal(kroot_open(dir, false, &root), 0);
        r = topology_read(&root, ret);
        kroot_close(&root);
        return r;
}

static void write_node(const char *dir, unsigned id, const char *cpulist, const char *distance, uint64_t total_kib)
{
        _cleanup_free_ char *cpus = xasprintf(NODE_DIR "/node%u/cpulist", id);
        _cleanup_free_ char *dist = xasprintf(NODE_DIR "/node%u/distance", id);
        _cleanup_free_ char *mem = xasprintf(NODE_DIR "/node%u/meminfo", id);
        _cleanup_free_ char *meminfo = xasprintf("Node %u MemTotal: %llu kB\nNode %u MemFree: %llu kB\n", id,
                                                 (unsigned long long) total_kib, id,
                                                 (unsigned long long) total_kib / 2);

        tl_write(dir, cpus, cpulist);
        tl_write(dir, dist, distance);
        tl_write(dir, mem, meminfo);
}

static void test_two_node_fixture_has_cpus_memory_and_distances(void **state)
{
        struct topology *t = read_fixture("nodes-2");

        assert_true(t->numa);
        assert_int_equal(t->n_nodes, 2);
        assert_int_equal(t->n_cpus, 32);
        assert_int_equal(t->nodes[0].id, 0);
        assert_int_equal(t->nodes[0].n_cpus, 16);
        assert_true(bitmap_test(&t->nodes[0].cpus, 7));
        assert_true(bitmap_test(&t->nodes[0].cpus, 16));
        assert_false(bitmap_test(&t->nodes[0].cpus, 8));
        assert_int_equal(t->nodes[0].mem.total_kib, 65830400);
        assert_int_equal(t->nodes[0].mem.free_kib, 40123456);
        assert_int_equal(t->nodes[0].mem.inactive_file_kib, 2048000);
        assert_int_equal(t->nodes[1].mem.total_kib, 66060288);
        assert_int_equal(t->nodes[0].distance[0], 10);
        assert_int_equal(t->nodes[0].distance[1], 21);
        assert_int_equal(t->nodes[1].distance[0], 21);
        assert_int_equal(t->nodes[0].distance[2], 0);
        topology_free(t);
}

static void test_four_node_fixture_maps_every_cpu_and_smt_sibling_to_its_node(void **state)
{
        struct topology *t = read_fixture("nodes-4");

        assert_int_equal(t->n_nodes, 4);
        assert_int_equal(t->n_cpus, 80);
        for (unsigned cpu = 0; cpu < 40; cpu++) {
                /* Seed 004's host: 10 cores per node, siblings at +40. */
                assert_int_equal(topology_cpu_node(t, cpu), (int) (cpu / 10));
                assert_int_equal(topology_cpu_node(t, cpu + 40), (int) (cpu / 10));
        }
        assert_int_equal(topology_cpu_node(t, 80), -ENOENT);
        assert_int_equal(topology_cpu_node(t, 100000), -ENOENT);
        for (size_t i = 0; i < t->n_nodes; i++)
                assert_int_equal(t->nodes[i].n_cpus, 20);
        assert_int_equal(topology_node_by_id(t, 2)->distance[3], 16);
        assert_int_equal(topology_node_by_id(t, 2)->distance[1], 32);
        assert_null(topology_node_by_id(t, 4));
        topology_free(t);
}

static void test_eight_node_fixture_distances_follow_sockets(void **state)
{
        struct topology *t = read_fixture("nodes-8");

        assert_int_equal(t->n_nodes, 8);
        assert_int_equal(t->n_cpus, 64);
        for (unsigned a = 0; a < 8; a++)
                for (unsigned b = 0; b < 8; b++) {
                        unsigned want = a == b ? 10 : a / 4 == b / 4 ? 12 : 32;

                        assert_int_equal(t->nodes[a].distance[b], want);
                }
        assert_int_equal(topology_cpu_node(t, 21), 5);
        assert_int_equal(topology_cpu_node(t, 53), 5);
        assert_int_equal(t->nodes[7].mem.total_kib, 16u << 20);
        topology_free(t);
}

static void test_distance_row_follows_online_nodes_when_ids_are_sparse(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        struct topology *t = NULL;

        /* Node 1 is offline: the second value of each row is node 2's. */
        tl_write(dir, NODE_DIR "/online", "0,2\n");
        write_node(dir, 0, "0-1\n", "10 20\n", 1024);
        write_node(dir, 2, "2-3\n", "20 10\n", 2048);
        assert_int_equal(read_tree(dir, &t), 0);
        assert_int_equal(t->n_nodes, 2);
        assert_int_equal(t->nodes[1].id, 2);
        assert_int_equal(t->nodes[0].distance[2], 20);
        assert_int_equal(t->nodes[0].distance[1], 0);
        assert_int_equal(t->nodes[1].distance[2], 10);
        assert_int_equal(topology_cpu_node(t, 3), 2);
        topology_free(t);
        tl_rm_rf(dir);
}

static void test_memory_only_node_has_no_cpus(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        struct topology *t = NULL;

        tl_write(dir, NODE_DIR "/online", "0-1\n");
        write_node(dir, 0, "0-3\n", "10 20\n", 1024);
        write_node(dir, 1, "\n", "20 10\n", 4096); /* CXL memory: an empty cpulist */
        assert_int_equal(read_tree(dir, &t), 0);
        assert_int_equal(t->n_nodes, 2);
        assert_int_equal(t->nodes[1].n_cpus, 0);
        assert_int_equal(t->nodes[1].mem.total_kib, 4096);
        assert_int_equal(t->n_cpus, 4);
        topology_free(t);
        tl_rm_rf(dir);
}

static void test_kernel_without_numa_is_one_node_of_every_cpu(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        _cleanup_free_ char *meminfo = tl_read(tl_srcdir(), "tests/fixtures/sample/proc-meminfo");
        struct topology_meminfo m;
        struct topology *t = NULL;
        struct kroot root;

        assert_non_null(meminfo);
        tl_write(dir, "sys/devices/system/cpu/online", "0-5\n");
        tl_write(dir, "proc/meminfo", meminfo);
        assert_int_equal(read_tree(dir, &t), 0);
        assert_false(t->numa);
        assert_int_equal(t->n_nodes, 1);
        assert_int_equal(t->nodes[0].n_cpus, 6);
        assert_int_equal(t->nodes[0].mem.total_kib, 24684096);
        assert_int_equal(t->nodes[0].distance[0], 10);
        assert_int_equal(topology_cpu_node(t, 5), 0);
        /* Free memory is re-read from proc/meminfo. */
        assert_int_equal(kroot_open(dir, false, &root), 0);
        tl_write(dir, "proc/meminfo", "MemTotal: 100 kB\nMemFree: 60 kB\n");
        assert_int_equal(topology_read_meminfo(&root, t, 0, &m), 0);
        assert_int_equal(m.free_kib, 60);
        assert_int_equal(topology_read_meminfo(&root, t, 1, &m), -ENOENT);
        kroot_close(&root);
        topology_free(t);
        tl_rm_rf(dir);
}

static void test_read_meminfo_sees_free_memory_change(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        struct topology_meminfo m;
        struct topology *t = NULL;
        struct kroot root;

        tl_write(dir, NODE_DIR "/online", "0\n");
        write_node(dir, 0, "0-1\n", "10\n", 8192);
        assert_int_equal(read_tree(dir, &t), 0);
        assert_int_equal(t->nodes[0].mem.free_kib, 4096);
        tl_write(dir, NODE_DIR "/node0/meminfo",
                 "Node 0 MemTotal: 8192 kB\nNode 0 MemFree: 1000 kB\nNode 0 Inactive(file): 24 kB\n");
        assert_int_equal(kroot_open(dir, false, &root), 0);
        assert_int_equal(topology_read_meminfo(&root, t, 0, &m), 0);
        assert_int_equal(m.free_kib, 1000);
        assert_int_equal(m.inactive_file_kib, 24);
        kroot_close(&root);
        topology_free(t);
        tl_rm_rf(dir);
}

static void test_node_id_at_the_balancer_limit_is_rejected(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        struct topology *t = NULL;

        tl_write(dir, NODE_DIR "/online", "0,64\n");
        write_node(dir, 0, "0\n", "10 20\n", 1024);
        write_node(dir, 64, "1\n", "20 10\n", 1024);
        assert_int_equal(read_tree(dir, &t), -ERANGE);
        assert_null(t);
        tl_rm_rf(dir);
}

static void test_broken_files_fail_without_output(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        struct topology *t = NULL;

        /* A CPU claimed by two nodes. */
        tl_write(dir, NODE_DIR "/online", "0-1\n");
        write_node(dir, 0, "0-1\n", "10 20\n", 1024);
        write_node(dir, 1, "1-2\n", "20 10\n", 1024);
        assert_int_equal(read_tree(dir, &t), -EINVAL);
        /* A distance row shorter than the online nodes. */
        write_node(dir, 1, "2-3\n", "20\n", 1024);
        assert_int_equal(read_tree(dir, &t), -EINVAL);
        /* A node directory that is missing is not "no NUMA". */
        tl_write(dir, NODE_DIR "/online", "0-2\n");
        write_node(dir, 0, "0-1\n", "10 20 20\n", 1024);
        write_node(dir, 1, "2-3\n", "20 10 20\n", 1024);
        tl_write(dir, "sys/devices/system/cpu/online", "0-3\n");
        assert_int_equal(read_tree(dir, &t), -ENOENT);
        assert_null(t);
        tl_rm_rf(dir);
}

static void test_root_without_sysfs_is_enoent(void **state)
{
        _cleanup_free_ char *dir = tl_mkdtemp("topology");
        struct topology *t = NULL;

        assert_int_equal(read_tree(dir, &t), -ENOENT);
        assert_null(t);
        tl_rm_rf(dir);
}

static void test_meminfo_parses_node_and_proc_formats(void **state)
{
        _cleanup_free_ char *node = tl_read(tl_srcdir(), "tests/fixtures/sample/node0-meminfo");
        _cleanup_free_ char *proc = tl_read(tl_srcdir(), "tests/fixtures/sample/proc-meminfo");
        struct topology_meminfo m;
        char folded[] = "Node 1 MemTotal: 10 kB Node 1 MemFree: 7 kB Node 1 SInactive(file): 99 kB";

        assert_int_equal(topology_parse_meminfo(node, &m), 0);
        assert_int_equal(m.total_kib, 8349912);
        assert_int_equal(m.free_kib, 3998284);
        assert_int_equal(m.inactive_file_kib, 945092);
        assert_int_equal(topology_parse_meminfo(proc, &m), 0);
        assert_int_equal(m.total_kib, 24684096);
        assert_int_equal(m.free_kib, 20332416);
        /* New lines folded by kfile_read; a longer key is not the one. */
        assert_int_equal(topology_parse_meminfo(folded, &m), 0);
        assert_int_equal(m.free_kib, 7);
        assert_int_equal(m.inactive_file_kib, 0);
        assert_int_equal(topology_parse_meminfo("Node 0 MemTotal: 10 kB\n", &m), -EINVAL);
        assert_int_equal(topology_parse_meminfo("Node 0 MemTotal: x kB\nNode 0 MemFree: 1 kB\n", &m), -EINVAL);
}

static void test_distance_rejects_garbage_and_extra_values(void **state)
{
        struct bitmap online = { 0 };
        uint8_t row[TOPOLOGY_MAX_NODES];

        assert_int_equal(bitmap_parse_list("0-1", &online), 0);
        assert_int_equal(topology_parse_distance("10 21\n", &online, row), 0);
        assert_int_equal(row[1], 21);
        assert_int_equal(topology_parse_distance("10 21 31\n", &online, row), -EINVAL);
        assert_int_equal(topology_parse_distance("10 x\n", &online, row), -EINVAL);
        assert_int_equal(topology_parse_distance("10 256\n", &online, row), -EINVAL);
        assert_int_equal(topology_parse_distance("10 0\n", &online, row), -EINVAL);
        bitmap_done(&online);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_two_node_fixture_has_cpus_memory_and_distances),
                cmocka_unit_test(test_four_node_fixture_maps_every_cpu_and_smt_sibling_to_its_node),
                cmocka_unit_test(test_eight_node_fixture_distances_follow_sockets),
                cmocka_unit_test(test_distance_row_follows_online_nodes_when_ids_are_sparse),
                cmocka_unit_test(test_memory_only_node_has_no_cpus),
                cmocka_unit_test(test_kernel_without_numa_is_one_node_of_every_cpu),
                cmocka_unit_test(test_read_meminfo_sees_free_memory_change),
                cmocka_unit_test(test_node_id_at_the_balancer_limit_is_rejected),
                cmocka_unit_test(test_broken_files_fail_without_output),
                cmocka_unit_test(test_root_without_sysfs_is_enoent),
                cmocka_unit_test(test_meminfo_parses_node_and_proc_formats),
                cmocka_unit_test(test_distance_rejects_garbage_and_extra_values),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
