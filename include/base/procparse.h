/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Pure parsers for the /proc and /sys text the domain table is built from.
 * Each takes a buffer, never a path (DESIGN: parsers are pure), and is
 * tested on files captured from real machines (tests/fixtures/proc). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* /proc/PID/status: the value after "key:" (e.g. "Cpus_allowed_list"),
 * trimmed, malloc'd. -ENOENT if the key is not there. */
int procparse_status_field(const char *buf, const char *key, char **ret);

/* /proc/PID/cgroup: the path of the hierarchy that holds controller
 * ("cpuset", "memory"). A cgroup v1 line naming it ("4:cpuset,cpu:/x")
 * wins; otherwise the v2 line ("0::/x"). *ret_v2 says which it was.
 * -ENOENT if neither is there. */
int procparse_cgroup_path(const char *buf, const char *controller, char **ret_path, bool *ret_v2);

/* /proc/self/mountinfo: where the cgroup hierarchy with controller is
 * mounted (v1: fstype "cgroup" with controller among its super options;
 * v2: fstype "cgroup2", controller ignored), and the root of that mount
 * (not "/" inside a container's cgroup namespace). Octal escapes ("\040")
 * are decoded. -ENOENT if it is not mounted. */
int procparse_cgroup_mount(const char *buf, const char *controller, bool v2,
                           char **ret_mount_point, char **ret_root);

/* From the cgroup path of one of a QEMU process's threads, the domain's
 * own cgroup: libvirt puts threads in .../emulator, .../vcpuN and
 * .../iothreadN, with systemd below an extra "libvirt" directory
 * (machine.slice/machine-qemu\x2d1\x2dvm.scope/libvirt/vcpu0), without it
 * directly (machine/qemu-1-vm.libvirt-qemu/vcpu0). Both reduce to the
 * scope. A path without those is returned as is. malloc'd. */
char *procparse_domain_cgroup(const char *thread_path);

/* Is this /proc/PID/numa_maps line a mapping whose pages this process
 * alone maps? The kernel prints "mapmax=N" only when some page of the
 * mapping is mapped more than once (N > 1): the QEMU binary and the
 * libraries every other QEMU runs too. Those are not the VM's memory, and
 * migrate_pages(2) without CAP_SYS_NICE (MPOL_MF_MOVE) leaves them where
 * they are. Guest RAM, heap, TCG code cache and hugetlbfs or memfd guest
 * RAM are private to the one QEMU. */
bool procparse_numa_maps_private(const char *line, size_t len);

/* One line of /proc/PID/numa_maps, "7f1c2e000000 default anon=32768
 * dirty=32768 N0=30000 N1=2768 kernelpagesize_kB=4". The pages array is
 * the caller's to keep across lines (it only grows); free it with
 * procparse_numa_maps_line_done. */
struct numa_maps_line {
        uint64_t start;         /* the mapping's start address */
        uint64_t page_kib;      /* kernelpagesize_kB: 4 where (before 2.6.39) it is not printed */
        bool private;           /* procparse_numa_maps_private */
        uint64_t *pages;        /* resident pages by node id, n_nodes of them */
        size_t n_nodes;         /* the highest node the line names + 1 */
        size_t cap;
};

/* Parse one line (without its '\n'), the one parser of numa_maps lines.
 * -EINVAL for a line without a hex address and a space, a malformed
 * "N<node>=<pages>" or kernelpagesize_kB; -ERANGE for a node above 1023. */
int procparse_numa_maps_line(const char *line, size_t len, struct numa_maps_line *l);
void procparse_numa_maps_line_done(struct numa_maps_line *l);

/* /proc/PID/numa_maps: the process's private resident memory per node in
 * KiB (procparse_numa_maps_private lines), summing each mapping's
 * "N<node>=<pages>" times its kernelpagesize_kB (so huge pages count
 * right). *ret_kib is indexed by node; *ret_n is the highest node with
 * pages + 1 (0 and NULL for a process with none). The errors of
 * procparse_numa_maps_line. */
int procparse_numa_maps(const char *buf, uint64_t **ret_kib, size_t *ret_n);

enum thread_kind {
        THREAD_EMULATOR,  /* anything else: main loop, workers, monitor iothread */
        THREAD_VCPU,      /* "CPU 3/KVM", "CPU 3/TCG"; "ALL CPUs/TCG" is vCPU -1 */
        THREAD_IOTHREAD,  /* "IO iothread1": libvirt's <iothreads>, id 1 */
};

/* What a QEMU thread is, from its comm (/proc/PID/task/TID/comm, with
 * -name debug-threads=on, which libvirt always passes). *ret_index is the
 * vCPU or iothread number, -1 for the emulator. */
enum thread_kind procparse_thread_comm(const char *comm, int *ret_index);
