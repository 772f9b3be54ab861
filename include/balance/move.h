/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The mover: carry out one balance_move on a running libvirt domain.
 *
 * CPUs go through libvirt (virDomainPinVcpuFlags, virDomainPinEmulator,
 * virDomainPinIOThread, all AFFECT_LIVE): libvirt then writes the vcpuN,
 * emulator and iothreadN cgroups and the threads' affinity itself, and
 * `virsh vcpupin` stays truthful, which a direct cgroup write would not
 * (libvirt reports its stored mask, not the cgroup's). A move that fails
 * half way (a vCPU refused, the domain gone) pins what was already moved
 * back to where it was: never a domain half moved. Each thread's
 * /proc/PID/task/TID/status Cpus_allowed_list is read back to verify.
 *
 * Memory, after probation: a <numatune mode='restrictive'> domain gets its
 * nodeset through virDomainSetNumaParameters (the only mode libvirt lets
 * change on a running domain); the others get cpuset.mems of their
 * emulator, vcpuN and iothreadN cgroups widened to the target,
 * migrate_pages(2) of the pages their QEMU alone maps (not the QEMU
 * binary and libraries other VMs share), and cpuset.mems narrowed to the
 * target without the kernel migrating again (move_memory.c says why). A
 * chunk smaller than what sits remote (max_migrate_mb_per_tick) is moved
 * page by page with numa_move_pages() instead, the cpusets only widened.
 *
 * After a successful move vmtuned's placement is recorded in the domain's
 * live metadata (VMTUNED_PLACEMENT_XMLNS, domain.h), so the <vcpupin>
 * entries libvirt adds for its own pins are not taken for the
 * administrator's. */
#pragma once

#include <libvirt/libvirt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "balance/policy.h"
#include "base/bitmap.h"

struct domain;
struct kroot;

#define MOVE_MESSAGE_MAX 512

enum move_memory_how {
        MOVE_MEMORY_NONE,          /* no memory step (or a dry run) */
        MOVE_MEMORY_LIBVIRT,       /* virDomainSetNumaParameters: restrictive <numatune> */
        MOVE_MEMORY_CGROUP,        /* cpuset.mems of emulator, vcpuN, iothreadN only: nothing was remote */
        MOVE_MEMORY_MIGRATE_PAGES, /* migrate_pages of the private pages (and cpuset.mems around it) */
        MOVE_MEMORY_MOVE_PAGES,    /* numa_move_pages of private mappings, bounded by migrate_mib */
};

const char *move_memory_how_to_string(enum move_memory_how how);

/* What one move did. Filled on success and on failure alike: it is the
 * record the daemon logs (MSGID_BALANCE_MOVE), so a failure says what was
 * done and what was undone. */
struct move_result {
        bool cpus_moved;           /* every thread pinned to target_cpus and read back so */
        bool memory_moved;         /* the memory step ran to its end */
        bool undone;               /* a step failed: threads already moved were pinned back */
        enum move_memory_how memory_how;
        uint64_t elapsed_usec;
        uint64_t migrated_mib;     /* resident MiB that left nodes outside to_nodes (numa_maps before - after) */
        uint64_t remote_mib;       /* resident MiB still outside to_nodes afterwards */
        char message[MOVE_MESSAGE_MAX];
};

/* Move d as m says. For every kind but BALANCE_MOVE_MEMORY, pin every vCPU,
 * the emulator and every iothread to target_cpus (the CPUs of m->to_nodes,
 * see move_nodes_cpus; ignored for MEMORY, may be NULL then). Then, for
 * kind MEMORY or migrate_mib > 0, move up to m->migrate_mib MiB of its
 * memory from outside m->to_nodes into them (MEMORY with 0: all of it).
 *
 * d is the domain table's entry (domain_build): it names the domain by
 * UUID and ID and its threads. Refused with -EPERM when d is not movable
 * (pinned, excluded: the policy never asks, this is the safety net).
 * -ENOENT: the domain or its process is gone; -ESTALE: it was restarted
 * since d was built (another ID); -ENOTCONN: the connection is gone;
 * -EINVAL: a bad move (no CPUs, a vCPU libvirt does not know); -EIO: a
 * pin read back wrong or libvirt failed otherwise; other -errno from the
 * kernel. When the CPU step fails after the first pin, the threads already
 * moved are pinned back and ret->undone says so. When the memory step
 * fails, the CPUs stay moved (ret->cpus_moved): all threads on the new
 * nodes with memory partly behind is a whole state, which the balancer's
 * memory-locality rule finishes. Logs only at debug level; with
 * root->dry_run nothing is done and the message says what would be. */
int move_domain(virConnectPtr conn, const struct kroot *root, const struct domain *d,
                const struct balance_move *m, const struct bitmap *target_cpus, struct move_result *ret);

/* --- pure helpers, exposed for the daemon and the tests ----------------- */

/* The CPUs of the nodes in mask: the union of node_cpus[id] for each id in
 * it (node_cpus is indexed by node id, n_nodes long; a NULL entry is a
 * node without CPUs). -EINVAL if mask is empty or names a node >= n_nodes,
 * -ENXIO if those nodes have no CPU at all (memory-only nodes). */
int move_nodes_cpus(const struct bitmap *const *node_cpus, size_t n_nodes, uint64_t mask, struct bitmap *ret);

/* libvirt's cpumap for cpus (VIR_USE_CPU bits), just long enough for its
 * highest CPU. -EINVAL for an empty set. */
int move_cpumap(const struct bitmap *cpus, unsigned char **ret_map, int *ret_len);

/* A node mask as a kernel list ("0,2-3"), as cpuset.mems and libvirt's
 * nodeset take it; "" for 0. malloc'd. */
char *move_nodes_format(uint64_t mask);

/* The metadata element recording vmtuned's placement, for
 * virDomainSetMetadata: "<placement cpus='0-3' nodes='0'/>"; without
 * the cpus attribute when cpus is NULL or empty. malloc'd. */
char *move_placement_xml(const char *cpus, uint64_t nodes);

/* Resident KiB outside mask in a per-node array (procparse_numa_maps). */
uint64_t move_remote_kib(const uint64_t *node_kib, size_t n, uint64_t mask);

/* A mapping of the QEMU process with pages on nodes outside a mask. */
struct move_range {
        uintptr_t start, end;
        uint64_t page_size;        /* bytes */
        uint64_t remote_pages;
};

/* From /proc/PID/numa_maps and /proc/PID/maps (buffers), the mappings that
 * hold pages on nodes outside mask, in address order: numa_maps has the
 * per-node counts and page size by start address, maps the end. Mappings
 * numa_maps lists that maps does not (it changed in between) are skipped.
 * -EINVAL on a malformed line. */
int move_remote_ranges(const char *numa_maps, const char *maps, uint64_t mask,
                       struct move_range **ret, size_t *ret_n);
