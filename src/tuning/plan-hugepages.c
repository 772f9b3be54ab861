/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning the [hugepages] section (src/tuning/plan-internal.h): static
 * huge pages of one size, host-wide (sys/kernel/mm/hugepages/hugepages-
 * SIZEkB/nr_hugepages) or on every NUMA node (sys/devices/system/node/
 * nodeN/hugepages/hugepages-SIZEkB/nr_hugepages), and the overcommit.
 * What the kernel actually reserves is apply's read-back; what a restore
 * may give back is rollback's (hugepages_restore_allowed). */
#include <inttypes.h>
#include <stdio.h>

#include "balance/topology.h"
#include "base/kfile.h"
#include "config/profile.h"
#include "plan-internal.h"
#include "tuning/hugepages-policy.h"
#include "tuning/plan.h"

#define NODE_DIR "sys/devices/system/node"

/* MemTotal of a meminfo file (proc/meminfo or nodeN/meminfo), in KiB; 0 when unknown. */
static uint64_t mem_total_kb(const struct kroot *root, const char *path)
{
        _cleanup_free_ char *buf = NULL;
        struct topology_meminfo m;

        if (kfile_read_all(root, path, &buf) < 0 || topology_parse_meminfo(buf, &m) < 0)
                return 0;
        return m.total_kib;
}

/* One nr_hugepages-like target: the amount of s as pages of page_kb in
 * memory of mem_path (read only for a percentage). */
static void plan_amount(const struct kroot *root, const struct setting *s, uint64_t page_kb, const char *mem_path,
                        char *key, char *path, struct target_list *l)
{
        struct hugepages_amount a;
        uint64_t mem_kb = 0;
        char value[32];

        if (hugepages_amount_parse(s->value, &a) < 0) {
                plan_note_add(l, NULL, "[hugepages] %s=%s is not a valid amount, ignoring", s->key, s->value);
                goto out;
        }
        if (a.kind == HP_PERCENT) {
                mem_kb = mem_total_kb(root, mem_path);
                if (mem_kb == 0) {
                        plan_note_add(l, key, "%s: cannot read MemTotal of %s for %s, skipped", key, mem_path,
                                      s->value);
                        goto out;
                }
        }
        snprintf(value, sizeof(value), "%" PRIu64, hugepages_amount_pages(&a, page_kb, mem_kb));
        plan_target_add(l, TAKE_PTR(key), TAKE_PTR(path), value, s, false, false);
out:
        free(key);
        free(path);
}

static void plan_per_node(const struct kroot *root, const struct setting *s, uint64_t page_kb,
                          struct target_list *l)
{
        _cleanup_free_ long *nodes = NULL;
        size_t n = 0, planned = 0;

        (void) plan_list_numbered(root, NODE_DIR, "node", &nodes, &n);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *meminfo = xasprintf(NODE_DIR "/node%ld/meminfo", nodes[i]);
                char *path = xasprintf(NODE_DIR "/node%ld/hugepages/hugepages-%" PRIu64 "kB/nr_hugepages",
                                       nodes[i], page_kb);

                /* A node without memory has no hugepages directory. */
                if (!kfile_exists(root, path)) {
                        free(path);
                        continue;
                }
                plan_amount(root, s, page_kb, meminfo, xasprintf("hugepages node%ld %" PRIu64 "kB", nodes[i],
                                                                  page_kb), path, l);
                planned++;
        }
        if (planned == 0)
                plan_note_add(l, "hugepages per_node", "[hugepages] per_node: no node offers %s/nodeN/hugepages/"
                              "hugepages-%" PRIu64 "kB, skipped", NODE_DIR, page_kb);
}

void plan_hugepages(const struct kroot *root, const struct profile *p, struct target_list *l)
{
        const struct setting *size = profile_get(p, "hugepages", "page_size");
        const struct setting *total = profile_get(p, "hugepages", "total");
        const struct setting *per_node = profile_get(p, "hugepages", "per_node");
        const struct setting *overcommit = profile_get(p, "hugepages", "overcommit");
        uint64_t page_kb = size && streq(size->value, "1G") ? 1024 * 1024 : 2048;
        _cleanup_free_ char *dir = xasprintf("sys/kernel/mm/hugepages/hugepages-%" PRIu64 "kB", page_kb);

        if (!total && !per_node && !overcommit)
                return;
        if (!kfile_exists(root, dir)) {
                plan_note_add(l, "hugepages", "[hugepages]: this kernel has no %s huge pages (%s), skipped",
                              size ? size->value : "2M", dir);
                return;
        }
        if (per_node) {
                if (total)
                        plan_note_add(l, "hugepages total", "[hugepages] total=%s ignored: per_node=%s is set, and "
                                      "wins", total->value, per_node->value);
                plan_per_node(root, per_node, page_kb, l);
        } else if (total) {
                plan_amount(root, total, page_kb, "proc/meminfo", xasprintf("hugepages %" PRIu64 "kB", page_kb),
                            xasprintf("%s/nr_hugepages", dir), l);
        }
        if (overcommit)
                plan_amount(root, overcommit, page_kb, "proc/meminfo",
                            xasprintf("hugepages %" PRIu64 "kB overcommit", page_kb),
                            xasprintf("%s/nr_overcommit_hugepages", dir), l);
}
