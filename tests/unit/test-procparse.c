/* SPDX-License-Identifier: GPL-2.0-or-later */
/* procparse: /proc/PID/{status,cgroup,numa_maps}, mountinfo and
 * QEMU thread names, on buffers; the *-libvirtd and *-hybrid fixtures were
 * captured from a Debian 12 host (hybrid cgroups, one NUMA node). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/procparse.h"
#include "testlib.h"
#include "base/util.h"

static char *fixture(const char *name)
{
        _cleanup_free_ char *rel = xasprintf("tests/fixtures/proc/%s", name);
        char *s = tl_read(tl_srcdir(), rel);

        assert_non_null(s);
        return s;
}

/* --- status, cgroup, mountinfo -------------------------------------------- */

static void test_status_field_reads_cpus_allowed_list_from_captured_status(void **state)
{
        _cleanup_free_ char *buf = fixture("status-libvirtd");
        _cleanup_free_ char *list = NULL, *mask = NULL, *name = NULL, *none = NULL;

        assert_int_equal(procparse_status_field(buf, "Cpus_allowed_list", &list), 0);
        assert_string_equal(list, "0-1");
        /* A key that is a prefix of another is matched whole. */
        assert_int_equal(procparse_status_field(buf, "Cpus_allowed", &mask), 0);
        assert_string_equal(mask, "3");
        assert_int_equal(procparse_status_field(buf, "Name", &name), 0);
        assert_string_equal(name, "libvirtd");
        assert_int_equal(procparse_status_field(buf, "Cpus", &none), -ENOENT);
        assert_null(none);
}

static void test_cgroup_path_prefers_the_v1_line_in_a_hybrid_layout(void **state)
{
        _cleanup_free_ char *buf = fixture("cgroup-hybrid-container");
        _cleanup_free_ char *memory = NULL, *cpuset = NULL, *pids = NULL;
        bool v2 = true;

        assert_int_equal(procparse_cgroup_path(buf, "memory", &memory, &v2), 0);
        assert_string_equal(memory, "/process_api/6a54a5dd8c2729cd3d15bdfea19a6a65");
        assert_false(v2);
        assert_int_equal(procparse_cgroup_path(buf, "cpuset", &cpuset, &v2), 0);
        assert_string_equal(cpuset, "/");
        assert_false(v2);
        /* No v1 hierarchy named "blk": falls back to the unified one. */
        assert_int_equal(procparse_cgroup_path(buf, "blk", &pids, &v2), 0);
        assert_string_equal(pids, "/");
        assert_true(v2);
}

static void test_cgroup_path_reads_comma_joined_controllers_and_v2_only(void **state)
{
        const char *v1 = "5:cpu,cpuacct:/a\n4:cpuset:/machine/qemu-2-beta.libvirt-qemu/vcpu1\n";
        const char *unified = "0::/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope/libvirt/emulator\n";
        _cleanup_free_ char *cpuacct = NULL, *cpuset = NULL, *v2path = NULL, *none = NULL;
        bool v2;

        assert_int_equal(procparse_cgroup_path(v1, "cpuacct", &cpuacct, &v2), 0);
        assert_string_equal(cpuacct, "/a");
        assert_int_equal(procparse_cgroup_path(v1, "cpuset", &cpuset, &v2), 0);
        assert_string_equal(cpuset, "/machine/qemu-2-beta.libvirt-qemu/vcpu1");
        assert_int_equal(procparse_cgroup_path(unified, "cpuset", &v2path, &v2), 0);
        assert_string_equal(v2path, "/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope/libvirt/emulator");
        assert_true(v2);
        assert_int_equal(procparse_cgroup_path(v1, "memory", &none, &v2), -ENOENT);
        assert_int_equal(procparse_cgroup_path("", "memory", &none, &v2), -ENOENT);
        assert_null(none);
}

static void test_cgroup_mount_finds_v1_controllers_and_v2_in_captured_mountinfo(void **state)
{
        _cleanup_free_ char *buf = fixture("mountinfo-hybrid");
        _cleanup_free_ char *cpuset = NULL, *cpuset_root = NULL, *cpu = NULL, *cpu_root = NULL;
        _cleanup_free_ char *unified = NULL, *unified_root = NULL;
        char *none = NULL, *none_root = NULL;

        assert_int_equal(procparse_cgroup_mount(buf, "cpuset", false, &cpuset, &cpuset_root), 0);
        assert_string_equal(cpuset, "/sys/fs/cgroup/cpuset");
        assert_string_equal(cpuset_root, "/");
        /* "cpu" is not "cpuacct" nor "cpuset". */
        assert_int_equal(procparse_cgroup_mount(buf, "cpu", false, &cpu, &cpu_root), 0);
        assert_string_equal(cpu, "/sys/fs/cgroup/cpu");
        assert_int_equal(procparse_cgroup_mount(buf, "cpuset", true, &unified, &unified_root), 0);
        assert_string_equal(unified, "/sys/fs/cgroup/unified");
        assert_int_equal(procparse_cgroup_mount(buf, "hugetlb", false, &none, &none_root), -ENOENT);
        assert_null(none);
}

static void test_cgroup_mount_skips_optional_fields_and_decodes_escapes(void **state)
{
        const char *buf =
                "22 1 0:21 / /proc rw,nosuid shared:12 - proc proc rw\n"
                "30 25 0:26 /lxc/ct1 /sys/fs/cgroup/my\\040cpuset rw shared:9 master:3 - cgroup cgroup rw,cpuset\n"
                "31 25 0:27 / /sys/fs/cgroup rw shared:10 - cgroup2 cgroup2 rw,nsdelegate\n";
        _cleanup_free_ char *mp = NULL, *root = NULL, *mp2 = NULL, *root2 = NULL;

        assert_int_equal(procparse_cgroup_mount(buf, "cpuset", false, &mp, &root), 0);
        assert_string_equal(mp, "/sys/fs/cgroup/my cpuset");
        assert_string_equal(root, "/lxc/ct1");
        assert_int_equal(procparse_cgroup_mount(buf, NULL, true, &mp2, &root2), 0);
        assert_string_equal(mp2, "/sys/fs/cgroup");
        assert_string_equal(root2, "/");
}

static void test_domain_cgroup_strips_thread_dir_and_libvirt_dir(void **state)
{
        static const struct {
                const char *in, *out;
        } cases[] = {
                /* systemd, v1 or v2: .../scope/libvirt/{emulator,vcpuN,iothreadN} */
                { "/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope/libvirt/vcpu0",
                  "/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope" },
                { "/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope/libvirt/emulator",
                  "/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope" },
                /* without systemd: machine/qemu-N-NAME.libvirt-qemu/{...} */
                { "/machine/qemu-2-beta.libvirt-qemu/iothread12", "/machine/qemu-2-beta.libvirt-qemu" },
                { "/machine/qemu-2-beta.libvirt-qemu/emulator", "/machine/qemu-2-beta.libvirt-qemu" },
                /* not a thread directory: left alone, "libvirt" included */
                { "/machine/qemu-2-beta.libvirt-qemu", "/machine/qemu-2-beta.libvirt-qemu" },
                { "/user.slice/libvirt", "/user.slice/libvirt" },
                { "/machine/vcpux", "/machine/vcpux" },
                { "/machine/vcpu", "/machine/vcpu" },
                { "/vcpu0", "/" },
                { "/", "/" },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *dir = procparse_domain_cgroup(cases[i].in);

                assert_string_equal(dir, cases[i].out);
        }
}

/* --- numa_maps ------------------------------------------------------------- */

static void test_numa_maps_sums_pages_of_captured_file(void **state)
{
        _cleanup_free_ char *buf = fixture("numa_maps-libvirtd");
        _cleanup_free_ uint64_t *kib = NULL;
        size_t n = 0;

        assert_int_equal(procparse_numa_maps(buf, &kib, &n), 0);
        assert_int_equal(n, 1);
        /* The sum of N0= times kernelpagesize_kB over the lines without
         * mapmax=, by awk (31680 KiB with the shared libraries). */
        assert_int_equal(kib[0], 24780);
}

/* What a second process maps too (mapmax=, the shared QEMU binary and
 * libraries) is not this VM's memory: migrate_pages(2) without
 * CAP_SYS_NICE does not move it either. */
static void test_numa_maps_leaves_out_pages_other_processes_map(void **state)
{
        const char *buf =
                "55d0c0a00000 default file=/usr/bin/qemu-system-x86_64 mapped=3000 mapmax=4 N0=3000 kernelpagesize_kB=4\n"
                "55d0c1a00000 default file=/usr/bin/qemu-system-x86_64 anon=2 dirty=2 mapped=10 N1=10 kernelpagesize_kB=4\n"
                "7f1000000000 default anon=256 dirty=256 N0=6 N1=250 kernelpagesize_kB=4\n"
                "7f2000000000 default file=/memfd:pc.ram\\040(deleted) dirty=100 N2=100 kernelpagesize_kB=4\n";
        _cleanup_free_ uint64_t *kib = NULL;
        size_t n = 0;

        assert_false(procparse_numa_maps_private(buf, strcspn(buf, "\n")));
        assert_true(procparse_numa_maps_private("7f00 default anon=1 N0=1", 24));
        assert_int_equal(procparse_numa_maps(buf, &kib, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(kib[0], 6 * 4);
        assert_int_equal(kib[1], (10 + 250) * 4);
        assert_int_equal(kib[2], 100 * 4);
}

static void test_numa_maps_counts_huge_pages_by_their_size(void **state)
{
        const char *buf =
                "7f0000000000 default file=/dev/hugepages/libvirt/qemu/1-vm/qemu_back_mem huge dirty=3 N0=2 N1=1 kernelpagesize_kB=2048\n"
                "7f1000000000 bind:1 anon=256 dirty=256 active=0 N1=256 kernelpagesize_kB=4\n"
                "7f2000000000 default\n"
                "7f3000000000 interleave:0-3 anon=5 dirty=5 N3=5 kernelpagesize_kB=4\n";
        _cleanup_free_ uint64_t *kib = NULL;
        size_t n = 0;

        assert_int_equal(procparse_numa_maps(buf, &kib, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(kib[0], 4096);
        assert_int_equal(kib[1], 2048 + 1024);
        assert_int_equal(kib[2], 0);
        assert_int_equal(kib[3], 20);
}

static void test_numa_maps_without_pages_is_empty_and_garbage_is_rejected(void **state)
{
        uint64_t *kib = (uint64_t *) 1;
        size_t n = 99;

        assert_int_equal(procparse_numa_maps("7f2000000000 default\n", &kib, &n), 0);
        assert_int_equal(n, 0);
        assert_null(kib);
        assert_int_equal(procparse_numa_maps("", &kib, &n), 0);
        assert_int_equal(n, 0);

        kib = (uint64_t *) 1;
        n = 99;
        assert_int_equal(procparse_numa_maps("7f00 default N0=x kernelpagesize_kB=4\n", &kib, &n), -EINVAL);
        assert_int_equal(procparse_numa_maps("7f00 default N0=3x kernelpagesize_kB=4\n", &kib, &n), -EINVAL);
        assert_int_equal(procparse_numa_maps("7f00 default N5000=3 kernelpagesize_kB=4\n", &kib, &n), -ERANGE);
        assert_ptr_equal(kib, (uint64_t *) 1); /* untouched on error */
        assert_int_equal(n, 99);
}

/* The one line parser both procparse_numa_maps and the mover's
 * move_remote_ranges read numa_maps with. */
static void test_numa_maps_line_gives_address_page_size_sharing_and_pages_by_node(void **state)
{
        const char *hugetlb = "7f1c60000000 bind:1 file=/dev/hugepages/q huge dirty=64 N1=60 N3=4 kernelpagesize_kB=2048";
        const char *shared = "55d0c0a00000 default file=/usr/bin/qemu mapped=900 mapmax=3 N0=900 kernelpagesize_kB=4";
        const char *old = "7ffd10000000 default stack anon=10 dirty=10 N0=10";
        struct numa_maps_line l = { 0 };

        assert_int_equal(procparse_numa_maps_line(hugetlb, strlen(hugetlb), &l), 0);
        assert_true(l.start == 0x7f1c60000000);
        assert_int_equal(l.page_kib, 2048);
        assert_true(l.private);
        assert_int_equal(l.n_nodes, 4);
        assert_int_equal(l.pages[0], 0);
        assert_int_equal(l.pages[1], 60);
        assert_int_equal(l.pages[2], 0);
        assert_int_equal(l.pages[3], 4);
        /* The next line starts afresh in the same array. */
        assert_int_equal(procparse_numa_maps_line(shared, strlen(shared), &l), 0);
        assert_false(l.private);
        assert_int_equal(l.page_kib, 4);
        assert_int_equal(l.n_nodes, 1);
        assert_int_equal(l.pages[0], 900);
        /* Kernels before 2.6.39 print no kernelpagesize_kB: base pages. */
        assert_int_equal(procparse_numa_maps_line(old, strlen(old), &l), 0);
        assert_int_equal(l.page_kib, 4);
        assert_int_equal(l.pages[0], 10);
        /* Only the len bytes given: "N0=10" cut to "N0=1". */
        assert_int_equal(procparse_numa_maps_line(old, strlen(old) - 1, &l), 0);
        assert_int_equal(l.pages[0], 1);
        procparse_numa_maps_line_done(&l);
        assert_null(l.pages);
}

static void test_numa_maps_line_rejects_malformed_words(void **state)
{
        const char *bad[] = {
                "zz default N0=1", "7f00", "7f00default N0=1", "", " 7f00 default N0=1",
                "7f00 default N0=", "7f00 default N0=x", "7f00 default N0=3x", "7f00 default N0 N1=2",
                "7f00 default N0=-1", "7f00 default N0=1 kernelpagesize_kB=0",
                "7f00 default N0=1 kernelpagesize_kB=4k", "1ffffffffffffffff default N0=1",
        };
        struct numa_maps_line l = { 0 };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
                assert_int_equal(procparse_numa_maps_line(bad[i], strlen(bad[i]), &l), -EINVAL);
        assert_int_equal(procparse_numa_maps_line("7f00 default N1024=1", 20, &l), -ERANGE);
        /* Words that only look like counts are other fields. */
        assert_int_equal(procparse_numa_maps_line("7f00 default file=/N0=x Nx=1 N", 30, &l), 0);
        assert_int_equal(l.n_nodes, 0);
        procparse_numa_maps_line_done(&l);
}

/* --- thread names ---------------------------------------------------------- */

static void test_thread_comm_sorts_vcpu_iothread_and_emulator_threads(void **state)
{
        static const struct {
                const char *comm;
                enum thread_kind kind;
                int index;
        } cases[] = {
                { "CPU 3/KVM", THREAD_VCPU, 3 },
                { "CPU 12/TCG", THREAD_VCPU, 12 },
                { "CPU 0/KVM\n", THREAD_VCPU, 0 },
                { "ALL CPUs/TCG", THREAD_VCPU, -1 },
                { "IO iothread1", THREAD_IOTHREAD, 1 },
                { "IO iothread27", THREAD_IOTHREAD, 27 },
                { "IO mon_iothread", THREAD_EMULATOR, -1 },
                { "IO iothreadx", THREAD_EMULATOR, -1 },
                { "qemu-system-x86", THREAD_EMULATOR, -1 },
                { "CPU x/KVM", THREAD_EMULATOR, -1 },
                { "CPU 3", THREAD_EMULATOR, -1 },
                { "worker", THREAD_EMULATOR, -1 },
                { "", THREAD_EMULATOR, -1 },
        };

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                int index = 42;

                assert_int_equal(procparse_thread_comm(cases[i].comm, &index), cases[i].kind);
                assert_int_equal(index, cases[i].index);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_field_reads_cpus_allowed_list_from_captured_status),
                cmocka_unit_test(test_cgroup_path_prefers_the_v1_line_in_a_hybrid_layout),
                cmocka_unit_test(test_cgroup_path_reads_comma_joined_controllers_and_v2_only),
                cmocka_unit_test(test_cgroup_mount_finds_v1_controllers_and_v2_in_captured_mountinfo),
                cmocka_unit_test(test_cgroup_mount_skips_optional_fields_and_decodes_escapes),
                cmocka_unit_test(test_domain_cgroup_strips_thread_dir_and_libvirt_dir),
                cmocka_unit_test(test_numa_maps_sums_pages_of_captured_file),
                cmocka_unit_test(test_numa_maps_counts_huge_pages_by_their_size),
        cmocka_unit_test(test_numa_maps_leaves_out_pages_other_processes_map),
                cmocka_unit_test(test_numa_maps_without_pages_is_empty_and_garbage_is_rejected),
                cmocka_unit_test(test_numa_maps_line_gives_address_page_size_sharing_and_pages_by_node),
                cmocka_unit_test(test_numa_maps_line_rejects_malformed_words),
                cmocka_unit_test(test_thread_comm_sorts_vcpu_iothread_and_emulator_threads),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
