/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "balance/topology.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>

#include "base/kfile.h"
#include "base/util.h"

#define NODE_DIR "sys/devices/system/node"

/* Big enough for any cpulist, distance row or meminfo these files hold:
 * a distance row is at most 4 bytes per node (node_read_distance()), a
 * node's meminfo about 1.5 KiB, a cpulist of 4096 scattered CPUs ~20 KiB. */
#define TOPOLOGY_BUF 32768

/* --- pure parsers ------------------------------------------------------ */

/* The number after "key" ("MemFree:") among the white-space separated
 * words of buf; -ENOENT if key is not there. */
static int meminfo_value(const char *buf, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);

        for (const char *p = buf; (p = strstr(p, key)); p += klen) {
                unsigned long long v;
                char *end;

                /* A whole word: "Inactive(file):", not "SInactive(file):". */
                if (p > buf && !isspace((unsigned char) p[-1]))
                        continue;
                errno = 0;
                v = strtoull(p + klen, &end, 10);
                if (end == p + klen || errno != 0)
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        return -ENOENT;
}

int topology_parse_meminfo(const char *buf, struct topology_meminfo *ret)
{
        struct topology_meminfo m = { 0 };
        int r;

        /* Both files print kB (fs/proc/meminfo.c, drivers/base/node.c). */
        r = meminfo_value(buf, "MemTotal:", &m.total_kib);
        if (r < 0)
                return -EINVAL;
        r = meminfo_value(buf, "MemFree:", &m.free_kib);
        if (r < 0)
                return -EINVAL;
        r = meminfo_value(buf, "Inactive(file):", &m.inactive_file_kib);
        if (r == -EINVAL)
                return r;
        *ret = m;
        return 0;
}

int topology_parse_distance(const char *buf, const struct bitmap *online, uint8_t ret[TOPOLOGY_MAX_NODES])
{
        uint8_t row[TOPOLOGY_MAX_NODES] = { 0 };
        const char *p = buf;
        unsigned id = 0;

        for (;;) {
                unsigned long v;
                char *end;

                p += strspn(p, " \t\n");
                if (!*p)
                        break;
                /* The next online node this value belongs to. */
                while (id < bitmap_size(online) && !bitmap_test(online, id))
                        id++;
                if (id >= bitmap_size(online) || id >= TOPOLOGY_MAX_NODES)
                        return -EINVAL;
                errno = 0;
                v = strtoul(p, &end, 10);
                if (end == p || errno != 0 || v < 1 || v > 255 || (*end && !isspace((unsigned char) *end)))
                        return -EINVAL;
                row[id++] = (uint8_t) v;
                p = end;
        }
        while (id < bitmap_size(online) && !bitmap_test(online, id))
                id++;
        if (id < bitmap_size(online))
                return -EINVAL;    /* fewer values than online nodes */
        memcpy(ret, row, sizeof(row));
        return 0;
}

/* --- reading ------------------------------------------------------------- */

void topology_free(struct topology *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->n_nodes; i++)
                bitmap_done(&t->nodes[i].cpus);
        free(t->nodes);
        free(t->cpu_node);
        free(t);
}

static void topology_freep(struct topology **t)
{
        topology_free(*t);
}

static int read_node(const struct kroot *root, const struct bitmap *online, unsigned id, char *buf,
                     struct topology_node *ret)
{
        _cleanup_(bitmap_done) struct bitmap cpus = { 0 };
        struct topology_node n = { .id = id };
        char path[64];
        int r;

        snprintf(path, sizeof(path), NODE_DIR "/node%u/cpulist", id);
        r = kfile_read_list(root, path, &cpus);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), NODE_DIR "/node%u/meminfo", id);
        r = kfile_read(root, path, buf, TOPOLOGY_BUF);
        if (r < 0)
                return r;
        r = topology_parse_meminfo(buf, &n.mem);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), NODE_DIR "/node%u/distance", id);
        r = kfile_read(root, path, buf, TOPOLOGY_BUF);
        if (r < 0)
                return r;
        r = topology_parse_distance(buf, online, n.distance);
        if (r < 0)
                return r;
        n.n_cpus = bitmap_count(&cpus);
        n.cpus = cpus;
        cpus = (struct bitmap){ 0 };
        *ret = n;
        return 0;
}

/* A kernel without CONFIG_NUMA has no node directory: one node 0 holds
 * every online CPU and all memory, so the sampler works the same. */
static int read_flat(const struct kroot *root, char *buf, struct topology *t)
{
        struct topology_node n = { .id = 0 };
        int r;

        r = kfile_read_list(root, "sys/devices/system/cpu/online", &n.cpus);
        if (r < 0)
                return r;
        r = kfile_read(root, "proc/meminfo", buf, TOPOLOGY_BUF);
        if (r >= 0)
                r = topology_parse_meminfo(buf, &n.mem);
        if (r < 0) {
                bitmap_done(&n.cpus);
                return r;
        }
        n.n_cpus = bitmap_count(&n.cpus);
        n.distance[0] = 10;
        t->nodes = xcalloc(1, sizeof(struct topology_node));
        t->nodes[0] = n;
        t->n_nodes = 1;
        return 0;
}

/* 1 if the kernel has no node directory. */
static int read_nodes(const struct kroot *root, char *buf, struct topology *t)
{
        _cleanup_(bitmap_done) struct bitmap online = { 0 };
        int r;

        r = kfile_read_list(root, NODE_DIR "/online", &online);
        if (r == -ENOENT)
                return 1;          /* no NUMA in this kernel */
        if (r < 0)
                return r;
        if (bitmap_size(&online) > TOPOLOGY_MAX_NODES)
                return -ERANGE;
        t->nodes = xcalloc(bitmap_count(&online) + 1, sizeof(struct topology_node));
        for (unsigned id = 0; id < bitmap_size(&online); id++) {
                if (!bitmap_test(&online, id))
                        continue;
                r = read_node(root, &online, id, buf, &t->nodes[t->n_nodes]);
                if (r < 0)
                        return r;
                t->n_nodes++;
        }
        t->numa = true;
        return 0;
}

/* The CPU -> node table; a CPU listed by two nodes is an error. */
static int index_cpus(struct topology *t)
{
        unsigned size = 0;

        for (size_t i = 0; i < t->n_nodes; i++)
                if (bitmap_size(&t->nodes[i].cpus) > size)
                        size = bitmap_size(&t->nodes[i].cpus);
        t->cpu_node = xcalloc(size + 1, sizeof(int));
        for (unsigned cpu = 0; cpu < size; cpu++)
                t->cpu_node[cpu] = -1;
        t->cpu_node_size = size;
        for (size_t i = 0; i < t->n_nodes; i++)
                for (unsigned cpu = 0; cpu < bitmap_size(&t->nodes[i].cpus); cpu++) {
                        if (!bitmap_test(&t->nodes[i].cpus, cpu))
                                continue;
                        if (t->cpu_node[cpu] >= 0)
                                return -EINVAL;
                        t->cpu_node[cpu] = (int) t->nodes[i].id;
                        t->n_cpus++;
                }
        return 0;
}

int topology_read(const struct kroot *root, struct topology **ret)
{
        _cleanup_(topology_freep) struct topology *t = xcalloc(1, sizeof(struct topology));
        _cleanup_free_ char *buf = xcalloc(TOPOLOGY_BUF, 1);
        int r;

        r = read_nodes(root, buf, t);
        if (r > 0)
                r = read_flat(root, buf, t);
        if (r < 0)
                return r;
        r = index_cpus(t);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int topology_cpu_node(const struct topology *t, unsigned cpu)
{
        if (cpu >= t->cpu_node_size || t->cpu_node[cpu] < 0)
                return -ENOENT;
        return t->cpu_node[cpu];
}

const struct topology_node *topology_node_by_id(const struct topology *t, unsigned id)
{
        for (size_t i = 0; i < t->n_nodes; i++)
                if (t->nodes[i].id == id)
                        return &t->nodes[i];
        return NULL;
}

int topology_meminfo_path(const struct topology *t, unsigned node, char *buf, size_t size)
{
        int n;

        if (t->numa)
                n = snprintf(buf, size, NODE_DIR "/node%u/meminfo", node);
        else if (node == 0)
                n = snprintf(buf, size, "proc/meminfo");
        else
                return -ENOENT;
        return n < 0 || (size_t) n >= size ? -ENAMETOOLONG : 0;
}

int topology_read_meminfo(const struct kroot *root, const struct topology *t, unsigned node,
                          struct topology_meminfo *ret)
{
        char path[64], buf[8192];
        int r;

        r = topology_meminfo_path(t, node, path, sizeof(path));
        if (r < 0)
                return r;
        r = kfile_read(root, path, buf, sizeof(buf));
        if (r < 0)
                return r;
        return topology_parse_meminfo(buf, ret);
}
