/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The host's NUMA topology: online nodes, each node's CPUs, memory and
 * distance row, read from sys/devices/system/node/ under the root prefix
 * (Documentation/ABI/stable/sysfs-devices-node), so tests read fixture
 * trees of 2, 4 and 8 nodes.
 *
 * Not libnuma: numa_node_to_cpus(), numa_node_size64() and numa_distance()
 * read these same sysfs files, but always under "/", so the fixtures would
 * be out of reach, and they add nothing the files do not say. libnuma stays
 * the mover's (numa_migrate_pages). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bitmap.h"

struct kroot;

/* Node ids must be below this (the balancer's node masks are uint64_t). */
#define TOPOLOGY_MAX_NODES 64

struct topology_meminfo {
        uint64_t total_kib;           /* MemTotal */
        uint64_t free_kib;            /* MemFree */
        uint64_t inactive_file_kib;   /* Inactive(file): page cache reclaim takes first; 0 if absent */
};

struct topology_node {
        unsigned id;
        struct bitmap cpus;
        unsigned n_cpus;              /* 0 for a memory-only node (CXL, HBM) */
        struct topology_meminfo mem;  /* as at topology_read(); free memory moves: see topology_read_meminfo() */
        /* By node id: the kernel's SLIT distance (10 to itself), 0 where
         * unknown or not online. */
        uint8_t distance[TOPOLOGY_MAX_NODES];
};

struct topology {
        struct topology_node *nodes;  /* online nodes, ascending id */
        size_t n_nodes;
        int *cpu_node;                /* by CPU number: node id, -1 for none */
        unsigned cpu_node_size;       /* entries in cpu_node: highest CPU + 1 */
        unsigned n_cpus;              /* CPUs on some node */
        /* false: the kernel has no NUMA (no sys/devices/system/node); one
         * node 0 was made of sys/devices/system/cpu/online and proc/meminfo. */
        bool numa;
};

/* Read the topology. -ENOENT if neither sys/devices/system/node nor
 * sys/devices/system/cpu/online is there, -ERANGE for a node id at or
 * above TOPOLOGY_MAX_NODES, -EINVAL for a file that does not parse, other
 * -errno from reading. *ret is set only on success; free it with
 * topology_free(). */
int topology_read(const struct kroot *root, struct topology **ret);
void topology_free(struct topology *t);

/* The node of a CPU, or -ENOENT if the CPU is on none (offline, unknown). */
int topology_cpu_node(const struct topology *t, unsigned cpu);
/* The node with this id, or NULL. */
const struct topology_node *topology_node_by_id(const struct topology *t, unsigned id);

/* Re-read one node's memory now (nodeN/meminfo, or proc/meminfo without
 * NUMA). No allocation. */
int topology_read_meminfo(const struct kroot *root, const struct topology *t, unsigned node,
                          struct topology_meminfo *ret);
/* The file topology_read_meminfo() reads, relative to the root, for a
 * reader that keeps it open. -ENOENT as there. */
int topology_meminfo_path(const struct topology *t, unsigned node, char *buf, size_t size);

/* Pure: nodeN/meminfo ("Node 0 MemTotal:  8349912 kB" lines) or
 * proc/meminfo ("MemTotal:  8349912 kB"), new lines folded or not.
 * -EINVAL without MemTotal and MemFree. */
int topology_parse_meminfo(const char *buf, struct topology_meminfo *ret);

/* A distance row in the kernel's order: one value per online node,
 * ascending id (drivers/base/node.c, node_read_distance(): for_each_online_node),
 * so with nodes 0 and 2 online, the second value is node 2's. Fills
 * ret[id] for every id in online; -EINVAL if the count differs or a value
 * is not 1-255. */
int topology_parse_distance(const char *buf, const struct bitmap *online,
                            uint8_t ret[TOPOLOGY_MAX_NODES]);
