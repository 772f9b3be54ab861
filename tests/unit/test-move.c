/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mover's pure parts (CPUs of a node mask, libvirt cpumaps, node
 * lists, the placement record, which mappings hold remote pages) and its
 * frame without libvirt (refusals, dry run). Moves of a real domain are
 * in tests/host/test-host-move.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "balance/move.h"
#include "testlib.h"
#include "base/util.h"

static struct bitmap list(const char *s)
{
        struct bitmap b = { 0 };

        assert_int_equal(bitmap_parse_list(s, &b), 0);
        return b;
}

static void assert_list(const struct bitmap *b, const char *want)
{
        char *s = bitmap_format_list(b);

        assert_string_equal(s, want);
        free(s);
}

/* --- CPUs of nodes ------------------------------------------------------- */

static void test_nodes_cpus_is_the_union_of_the_nodes_in_the_mask(void **state)
{
        struct bitmap n0 = list("0-3"), n1 = list("4-7"), n3 = list("12-15");
        const struct bitmap *node_cpus[] = { &n0, &n1, NULL /* memory only */, &n3 };
        struct bitmap cpus = { 0 }, untouched = { 0 };

        assert_int_equal(move_nodes_cpus(node_cpus, 4, BALANCE_NODE_BIT(0) | BALANCE_NODE_BIT(3), &cpus), 0);
        assert_list(&cpus, "0-3,12-15");
        bitmap_done(&cpus);

        assert_int_equal(move_nodes_cpus(node_cpus, 4, BALANCE_NODE_BIT(1) | BALANCE_NODE_BIT(2), &cpus), 0);
        assert_list(&cpus, "4-7");
        bitmap_done(&cpus);

        assert_int_equal(move_nodes_cpus(node_cpus, 4, BALANCE_NODE_BIT(2), &untouched), -ENXIO);
        assert_int_equal(move_nodes_cpus(node_cpus, 4, BALANCE_NODE_BIT(4), &untouched), -EINVAL);
        assert_int_equal(move_nodes_cpus(node_cpus, 4, 0, &untouched), -EINVAL);
        assert_null(untouched.words);
        bitmap_done(&n0);
        bitmap_done(&n1);
        bitmap_done(&n3);
}

static void test_cpumap_sets_libvirt_bits_and_is_just_long_enough(void **state)
{
        struct bitmap one = list("1"), spread = list("0,9,15"), empty = { 0 };
        unsigned char *map = NULL;
        int len = 0;

        assert_int_equal(move_cpumap(&one, &map, &len), 0);
        assert_int_equal(len, 1);
        assert_int_equal(map[0], 0x02);
        free(map);

        assert_int_equal(move_cpumap(&spread, &map, &len), 0);
        assert_int_equal(len, 2);
        assert_int_equal(map[0], 0x01);
        assert_int_equal(map[1], 0x82);
        assert_true(VIR_CPU_USED(map, 9));
        assert_false(VIR_CPU_USED(map, 8));
        free(map);

        map = NULL;
        assert_int_equal(move_cpumap(&empty, &map, &len), -EINVAL);
        assert_null(map);
        bitmap_done(&one);
        bitmap_done(&spread);
}

/* --- node lists and the placement record ---------------------------------- */

static void test_nodes_format_is_a_kernel_list(void **state)
{
        char *s;

        s = move_nodes_format(BALANCE_NODE_BIT(0) | BALANCE_NODE_BIT(2) | BALANCE_NODE_BIT(3));
        assert_string_equal(s, "0,2-3");
        free(s);
        s = move_nodes_format(BALANCE_NODE_BIT(63));
        assert_string_equal(s, "63");
        free(s);
        s = move_nodes_format(0);
        assert_string_equal(s, "");
        free(s);
}

static void test_placement_xml_round_trips_through_the_domain_parser(void **state)
{
        char *xml, *cpus, *nodes;

        xml = move_placement_xml("0-3", BALANCE_NODE_BIT(0));
        assert_string_equal(xml, "<placement cpus='0-3' nodes='0'/>");
        assert_int_equal(domain_placement_parse(xml, &cpus, &nodes), 0);
        assert_string_equal(cpus, "0-3");
        assert_string_equal(nodes, "0");
        free(cpus);
        free(nodes);
        free(xml);

        /* CPUs moved, memory never: no nodes */
        xml = move_placement_xml("1", 0);
        assert_string_equal(xml, "<placement cpus='1'/>");
        assert_int_equal(domain_placement_parse(xml, &cpus, &nodes), 0);
        assert_string_equal(cpus, "1");
        assert_null(nodes);
        free(cpus);
        free(xml);

        /* memory moved, CPUs never */
        xml = move_placement_xml(NULL, BALANCE_NODE_BIT(1) | BALANCE_NODE_BIT(2));
        assert_string_equal(xml, "<placement nodes='1-2'/>");
        free(xml);
}

/* --- memory: what is remote ------------------------------------------------- */

static void test_remote_kib_sums_the_nodes_outside_the_mask(void **state)
{
        const uint64_t kib[] = { 100, 20, 0, 3 };

        assert_int_equal(move_remote_kib(kib, 4, BALANCE_NODE_BIT(0)), 23);
        assert_int_equal(move_remote_kib(kib, 4, BALANCE_NODE_BIT(1) | BALANCE_NODE_BIT(3)), 100);
        assert_int_equal(move_remote_kib(kib, 4, 0xf), 0);
        assert_int_equal(move_remote_kib(NULL, 0, 0), 0);
}

/* Shaped like a QEMU's: guest RAM half on node 1, the heap local, a
 * mapping numa_maps lists that maps no longer has, huge pages remote. */
static const char numa_maps[] =
        "55d0c0a00000 default file=/usr/bin/qemu-system-x86_64 mapped=900 N0=900 kernelpagesize_kB=4\n"
        "55d0c2000000 default heap anon=300 dirty=300 N0=300 kernelpagesize_kB=4\n"
        "7f1c20000000 default anon=32768 dirty=32768 active=0 N0=16384 N1=16384 kernelpagesize_kB=4\n"
        "7f1c40000000 default anon=5 dirty=5 N1=5 kernelpagesize_kB=4\n"
        "7f1c60000000 bind:1 file=/dev/hugepages/q huge dirty=64 N1=60 N2=4 kernelpagesize_kB=2048\n"
        "7ffd10000000 default stack anon=10 dirty=10 N0=10 kernelpagesize_kB=4\n";

static const char maps[] =
        "55d0c0a00000-55d0c0d84000 r-xp 00000000 08:01 1234    /usr/bin/qemu-system-x86_64\n"
        "55d0c2000000-55d0c2200000 rw-p 00000000 00:00 0       [heap]\n"
        "7f1c20000000-7f1c28000000 rw-p 00000000 00:00 0 \n"
        "7f1c60000000-7f1c68000000 rw-s 00000000 00:2f 77      /dev/hugepages/q (deleted)\n"
        "7ffd10000000-7ffd10021000 rw-p 00000000 00:00 0       [stack]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n";

static void test_remote_ranges_join_numa_maps_counts_with_maps_ends(void **state)
{
        struct move_range *r = NULL;
        size_t n = 0;

        assert_int_equal(move_remote_ranges(numa_maps, maps, BALANCE_NODE_BIT(0), &r, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(r[0].start, 0x7f1c20000000);
        assert_int_equal(r[0].end, 0x7f1c28000000);
        assert_int_equal(r[0].page_size, 4096);
        assert_int_equal(r[0].remote_pages, 16384);
        assert_int_equal(r[1].start, 0x7f1c60000000);
        assert_int_equal(r[1].page_size, 2048 * 1024);
        assert_int_equal(r[1].remote_pages, 64);
        free(r);

        /* into node 1: the local mappings become the remote ones */
        assert_int_equal(move_remote_ranges(numa_maps, maps, BALANCE_NODE_BIT(1) | BALANCE_NODE_BIT(2), &r, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(r[0].start, 0x55d0c0a00000);
        assert_int_equal(r[0].remote_pages, 900);
        assert_int_equal(r[2].remote_pages, 16384);
        assert_int_equal(r[3].end, 0x7ffd10021000);
        free(r);

        assert_int_equal(move_remote_ranges("", "", 1, &r, &n), 0);
        assert_int_equal(n, 0);
        free(r);
}

static void test_remote_ranges_reject_malformed_lines(void **state)
{
        struct move_range *r = (struct move_range *) 0x1;
        size_t n = 7;

        assert_int_equal(move_remote_ranges("zz default N0=1\n", maps, 1, &r, &n), -EINVAL);
        assert_int_equal(move_remote_ranges("7f00 default N0=x\n", maps, 1, &r, &n), -EINVAL);
        assert_int_equal(move_remote_ranges("7f00 default N0 kernelpagesize_kB=4\n", maps, 1, &r, &n), -EINVAL);
        /* 2^54 KiB is 0 bytes in 64 bits (a tests/fuzz input). */
        assert_int_equal(move_remote_ranges("7f00 default N0=1 kernelpagesize_kB=18014398509481984\n", maps, 2,
                                            &r, &n), -EINVAL);
        assert_int_equal(move_remote_ranges(numa_maps, "7f00+7f10 rw-p\n", 1, &r, &n), -EINVAL);
        assert_int_equal(move_remote_ranges(numa_maps, "7f10-7f00 rw-p\n", 1, &r, &n), -EINVAL);
        assert_ptr_equal(r, (struct move_range *) 0x1);
        assert_int_equal(n, 7);
}

/* --- the frame, without libvirt ------------------------------------------ */

struct frame {
        char *dir;
        struct kroot root, dry;
        struct domain d;
        struct bitmap cpu1;
};

static int setup(void **state)
{
        struct frame *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-move");
        assert_int_equal(kroot_open(f->dir, false, &f->root), 0);
        assert_int_equal(kroot_open(f->dir, true, &f->dry), 0);
        f->d.name = xstrdup("vm1");
        f->d.pid = 4242;
        f->d.id = 3;
        f->d.movable = true;
        f->d.vcpu_threads = xcalloc(2, sizeof(struct domain_thread));
        f->d.vcpu_threads[0] = (struct domain_thread){ .index = 0, .tid = 4250 };
        f->d.vcpu_threads[1] = (struct domain_thread){ .index = 1, .tid = 4251 };
        f->d.n_vcpu_threads = 2;
        bitmap_set(&f->cpu1, 1);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct frame *f = *state;

        domain_done(&f->d);
        bitmap_done(&f->cpu1);
        kroot_close(&f->root);
        kroot_close(&f->dry);
        tl_rm_rf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static const struct balance_move cpu_move = {
        .kind = BALANCE_MOVE_CPU, .from_nodes = 1, .to_nodes = 2,
};

static void test_a_domain_that_is_not_movable_is_refused_with_its_reason(void **state)
{
        struct frame *f = *state;
        struct move_result res;

        f->d.movable = false;
        f->d.reason = xstrdup("static <vcpupin>");
        memset(&res, 0xaa, sizeof(res));
        assert_int_equal(move_domain(NULL, &f->root, &f->d, &cpu_move, &f->cpu1, &res), -EPERM);
        assert_false(res.cpus_moved);
        assert_false(res.undone);
        assert_non_null(strstr(res.message, "static <vcpupin>"));
}

static void test_a_cpu_move_without_target_cpus_is_refused(void **state)
{
        struct frame *f = *state;
        struct bitmap empty = { 0 };
        struct balance_move nowhere = cpu_move;
        struct move_result res;

        assert_int_equal(move_domain(NULL, &f->root, &f->d, &cpu_move, NULL, &res), -EINVAL);
        assert_int_equal(move_domain(NULL, &f->root, &f->d, &cpu_move, &empty, &res), -EINVAL);
        nowhere.to_nodes = 0;
        assert_int_equal(move_domain(NULL, &f->root, &f->d, &nowhere, &f->cpu1, &res), -EINVAL);
        assert_non_null(strstr(res.message, "nowhere"));
}

static void test_without_a_connection_nothing_is_tried(void **state)
{
        struct frame *f = *state;
        struct move_result res;

        assert_int_equal(move_domain(NULL, &f->root, &f->d, &cpu_move, &f->cpu1, &res), -ENOTCONN);
        assert_false(res.cpus_moved);
        assert_false(res.undone);
        assert_string_equal(res.message, "not connected to libvirt");
}

static void test_dry_run_says_what_it_would_do_and_does_nothing(void **state)
{
        struct frame *f = *state;
        struct balance_move seed = cpu_move;
        struct move_result res;

        seed.migrate_mib = 512;
        /* No connection needed: a dry run never calls libvirt. */
        assert_int_equal(move_domain(NULL, &f->dry, &f->d, &seed, &f->cpu1, &res), 0);
        assert_false(res.cpus_moved);
        assert_false(res.memory_moved);
        assert_int_equal(res.memory_how, MOVE_MEMORY_NONE);
        assert_non_null(strstr(res.message, "dry run: would pin 2 vCPUs, the emulator and 0 iothreads of vm1 to CPUs 1"));
        assert_non_null(strstr(res.message, "up to 512 MiB of its memory to node(s) 1"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nodes_cpus_is_the_union_of_the_nodes_in_the_mask),
                cmocka_unit_test(test_cpumap_sets_libvirt_bits_and_is_just_long_enough),
                cmocka_unit_test(test_nodes_format_is_a_kernel_list),
                cmocka_unit_test(test_placement_xml_round_trips_through_the_domain_parser),
                cmocka_unit_test(test_remote_kib_sums_the_nodes_outside_the_mask),
                cmocka_unit_test(test_remote_ranges_join_numa_maps_counts_with_maps_ends),
                cmocka_unit_test(test_remote_ranges_reject_malformed_lines),
                cmocka_unit_test_setup_teardown(test_a_domain_that_is_not_movable_is_refused_with_its_reason, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_cpu_move_without_target_cpus_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_without_a_connection_nothing_is_tried, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_says_what_it_would_do_and_does_nothing, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
