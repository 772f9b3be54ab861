/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Seed 004's balancer rule exactly as its slides publish it, the baseline
 * the simulator compares vmtuned's policy with: every interval, find the
 * nodes with the highest and lowest nr_running; if high - low >= 2,
 * load_high / load_low > 1.1 and load_high > 1.0, move one VM from the
 * busiest to the idlest node through its cpuset (cpus and mems with
 * memory_migrate: CPUs and all memory at once). Which VM the slides do not
 * say; their log moves the first one listed on the busiest node, and so
 * does this. New VMs go to a node drawn at random (here: from their id, so
 * the function stays pure and the simulator deterministic). */
#include <stdio.h>

#include "policy-internal.h"

static uint64_t mix(uint64_t x)
{
        /* splitmix64's finaliser: a fixed, well spread hash of the id. */
        x += UINT64_C(0x9e3779b97f4a7c15);
        x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
        return x ^ (x >> 31);
}

static void seed_place(struct bp_work *w)
{
        const struct balance_snapshot *snap = w->snap;

        for (size_t i = 0; i < snap->n_domains; i++) {
                const struct balance_domain *d = &snap->domains[i];
                uint64_t mask = d->cpu_nodes & w->present;
                unsigned to;
                struct balance_move *m;

                if (!d->movable || (mask && mask != w->present) || snap->n_nodes < 2)
                        continue;
                to = snap->nodes[mix(d->id) % snap->n_nodes].id;
                m = bp_plan_add(w, BALANCE_MOVE_PLACE, i, mask, BALANCE_NODE_BIT(to),
                             bp_vm_resident(d) - d->mem_mib[to]);
                if (!m)
                        return;
                snprintf(m->reason, sizeof(m->reason), "new VM: a random node");
        }
}

int balance_seed_rule_plan(const struct balance_params *p, const struct balance_snapshot *snap,
                           struct balance_plan *ret)
{
        const struct balance_node *high, *low;
        struct balance_state none = {};
        struct bp_work w;
        double load_high, load_low;
        int r;

        r = bp_validate(p, snap);
        if (r < 0)
                return r;
        if (!ret)
                return -EINVAL;
        bp_work_init(&w, p, snap, &none, ret);

        seed_place(&w);
        high = low = &snap->nodes[0];
        for (size_t i = 1; i < snap->n_nodes; i++) {
                if (snap->nodes[i].nr_running > high->nr_running)
                        high = &snap->nodes[i];
                if (snap->nodes[i].nr_running < low->nr_running)
                        low = &snap->nodes[i];
        }
        load_high = high->nr_running / high->cpus;
        load_low = low->nr_running / low->cpus;
        snprintf(ret->reason, sizeof(ret->reason),
                 "nr_running_high[%.1f] node%u, nr_running_low[%.1f] node%u, load_high[%.3f], "
                 "load_low[%.3f], load_ratio[%.3f]", high->nr_running, high->id, low->nr_running, low->id,
                 load_high, load_low, load_low > 0 ? load_high / load_low : 0.0);
        if (high == low || !balance_trigger(p, high->nr_running, high->cpus, low->nr_running, low->cpus))
                return 0;

        for (size_t i = 0; i < snap->n_domains; i++) {
                const struct balance_domain *d = &snap->domains[i];
                struct balance_move *m;

                if (!d->movable || (d->cpu_nodes & w.present) != BALANCE_NODE_BIT(high->id))
                        continue;
                m = bp_plan_add(&w, BALANCE_MOVE_CPU, i, BALANCE_NODE_BIT(high->id), BALANCE_NODE_BIT(low->id),
                             bp_vm_resident(d) - d->mem_mib[low->id]);
                if (!m)
                        return 0;
                snprintf(m->reason, sizeof(m->reason),
                         "nr_running_high[%.1f], nr_running_low[%.1f], load_high[%.3f], load_low[%.3f]; "
                         "moving [%s] from node [node%u] to node [node%u]", high->nr_running, low->nr_running,
                         load_high, load_low, d->name, high->id, low->id);
                ret->reason[0] = 0;
                return 0;
        }
        return 0;
}
