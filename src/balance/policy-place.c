/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Placement of new VMs, a stage of the pure policy (rules 2 and 6 of
 * include/balance/policy.h): the node with most room for the VM's vCPUs
 * and memory; a VM bigger than any node gets the fewest nodes that hold it,
 * the closest together. Never where its memory does not fit. */
#include <math.h>
#include <stdio.h>

#include "policy-internal.h"

struct choice {
        uint64_t mask;
        unsigned k;              /* nodes */
        unsigned distance;       /* sum of pairwise distances in the set */
        double load_after;       /* (nr_running + its vCPUs) / cpus of the set */
        double resident;         /* MiB it already has there */
        double room;
        unsigned shared;         /* VMs of its share_group there (one node only) */
};

/* Placement counts a new VM as busy on all its vCPUs: one that has not run
 * yet shows no load, and forty of them must not all land on one node. */
static double expected_load(const struct bp_work *w, const struct balance_domain *d)
{
        return fmax(bp_dom_load(w, d), (double) d->vcpus);
}

/* nr_running of the set without this VM's own share (an unplaced VM runs
 * everywhere) plus what was placed there this tick. */
static double set_nr(const struct bp_work *w, const struct balance_domain *d, uint64_t mask)
{
        uint64_t cur = d->cpu_nodes & w->present;
        unsigned cur_cpus;
        double nr = 0;

        if (!cur)
                cur = w->present;
        cur_cpus = bp_mask_cpus(w, cur);
        bp_for_each_node(w, id) {
                if (!(mask & BALANCE_NODE_BIT(id)))
                        continue;
                nr += w->nr[id] + w->pressure[id];
                if (cur & BALANCE_NODE_BIT(id))
                        nr -= bp_dom_load(w, d) * w->node[id]->cpus / cur_cpus;
        }
        return nr;
}

static void fill_choice(const struct bp_work *w, const struct balance_domain *d, uint64_t mask,
                        struct choice *c)
{
        *c = (struct choice) { .mask = mask };
        bp_for_each_node(w, a) {
                if (!(mask & BALANCE_NODE_BIT(a)))
                        continue;
                c->k++;
                bp_for_each_node(w, b)
                        if (b > a && (mask & BALANCE_NODE_BIT(b)))
                                c->distance += bp_distance(w, a, b);
        }
        c->load_after = (set_nr(w, d, mask) + expected_load(w, d)) / bp_mask_cpus(w, mask);
        c->resident = (double) bp_vm_resident_in(d, mask);
        c->room = bp_work_room(w, mask);
}

/* Fewest nodes, then closest, then least loaded, then least to migrate,
 * then most free memory. */
static bool better(const struct choice *a, const struct choice *b)
{
        if (!b->mask)
                return true;
        if (a->k != b->k)
                return a->k < b->k;
        if (a->distance != b->distance)
                return a->distance < b->distance;
        if (fabs(a->load_after - b->load_after) > 1e-9)
                return a->load_after < b->load_after;
        if (a->resident != b->resident)
                return a->resident > b->resident;
        return a->room > b->room;
}

static bool cpus_fit(const struct bp_work *w, const struct balance_domain *d, uint64_t mask)
{
        unsigned want = d->vcpus < w->total_cpus ? d->vcpus : w->total_cpus;

        return bp_mask_cpus(w, mask) >= want;
}

/* Grow a set from anchor, nearest nodes first (the less loaded on a tie),
 * until the VM's vCPUs and memory fit; 0 if even every node is too small. */
static uint64_t grow_from(const struct bp_work *w, const struct balance_domain *d, unsigned anchor)
{
        uint64_t mask = BALANCE_NODE_BIT(anchor);

        while (!(cpus_fit(w, d, mask) && bp_work_fits(w, d, mask))) {
                unsigned best = BALANCE_MAX_NODES;

                bp_for_each_node(w, id) {
                        if (mask & BALANCE_NODE_BIT(id))
                                continue;
                        if (best == BALANCE_MAX_NODES ||
                            bp_distance(w, anchor, id) < bp_distance(w, anchor, best) ||
                            (bp_distance(w, anchor, id) == bp_distance(w, anchor, best) &&
                             bp_node_load(w, id) < bp_node_load(w, best)))
                                best = id;
                }
                if (best == BALANCE_MAX_NODES)
                        return 0;
                mask |= BALANCE_NODE_BIT(best);
        }
        return mask;
}

/* Rule 2 with KSM groups: of the single nodes that hold it, the one with
 * most VMs sharing its pages if its load after is within
 * BALANCE_SHARE_PLACE_SLACK of the best; else the best. */
static void with_group(const struct bp_work *w, const struct balance_domain *d, struct choice *best)
{
        size_t i = (size_t) (d - w->snap->domains);
        struct choice group = {}, c;

        if (!best->mask || best->k != 1 || w->state->vms[i].share_head == SIZE_MAX)
                return;
        bp_for_each_node(w, id) {
                uint64_t mask = BALANCE_NODE_BIT(id);

                if (!cpus_fit(w, d, mask) || !bp_work_fits(w, d, mask))
                        continue;
                fill_choice(w, d, mask, &c);
                c.shared = bp_share_on(w, i, id);
                if (c.shared > group.shared && c.load_after <= best->load_after + BALANCE_SHARE_PLACE_SLACK)
                        group = c;
        }
        if (group.mask)
                *best = group;
}

static uint64_t choose_nodes(const struct bp_work *w, const struct balance_domain *d, struct choice *ret)
{
        struct choice best = {}, c;

        bp_for_each_node(w, id) {
                uint64_t mask = BALANCE_NODE_BIT(id);

                if (!cpus_fit(w, d, mask) || !bp_work_fits(w, d, mask))
                        continue;
                fill_choice(w, d, mask, &c);
                if (better(&c, &best))
                        best = c;
        }
        with_group(w, d, &best);
        if (!best.mask)
                bp_for_each_node(w, id) {
                        uint64_t mask = grow_from(w, d, id);

                        if (!mask)
                                continue;
                        fill_choice(w, d, mask, &c);
                        if (better(&c, &best))
                                best = c;
                }
        *ret = best;
        return best.mask;
}

/* The unplaced movable VM (rule 9) with the most memory: big ones first,
 * while there is room for them. */
static long pick_unplaced(const struct bp_work *w)
{
        const struct balance_snapshot *snap = w->snap;
        uint64_t best_need = 0;
        long best = -1;

        for (size_t i = 0; i < snap->n_domains; i++) {
                const struct balance_vm *vm = &w->state->vms[i];
                uint64_t need = bp_vm_need_mib(&snap->domains[i]);

                if (vm->phase != BALANCE_VM_NEW || !snap->domains[i].movable ||
                    vm->planned_tick == w->state->tick)
                        continue;
                if (best < 0 || need > best_need) {
                        best = (long) i;
                        best_need = need;
                }
        }
        return best;
}

static void note_no_room(struct bp_work *w, size_t i)
{
        const struct balance_domain *d = &w->snap->domains[i];
        unsigned best = bp_mask_first(w->present);

        bp_for_each_node(w, id)
                if (w->room[id] > w->room[best])
                        best = id;
        bp_plan_note(w, i, "%s not placed: needs %u vCPUs and %.1f GiB; most room is node%u with %.1f GiB",
                  d->name, d->vcpus, bp_mib_to_gib((double) bp_vm_need_mib(d)), best,
                  bp_mib_to_gib(fmax(w->room[best], 0)));
}

static void place(struct bp_work *w, size_t i, const struct choice *c)
{
        const struct balance_domain *d = &w->snap->domains[i];
        struct balance_vm *vm = &w->state->vms[i];
        uint64_t from = d->cpu_nodes & w->present;
        double extra = expected_load(w, d) - bp_dom_load(w, d);
        unsigned cpus = bp_mask_cpus(w, c->mask);
        struct balance_move *m = NULL;

        if (c->mask != from) {
                m = bp_plan_add(w, BALANCE_MOVE_PLACE, i, from, c->mask, 0);
                if (!m)
                        return; /* plan full: next tick */
        }
        vm->planned_tick = w->state->tick;
        vm->phase = BALANCE_VM_SETTLED;
        vm->home = c->mask;
        vm->migrating = true;
        vm->ticks_since_move = 0;
        bp_work_shift_vm(w, i, from ? from : w->present, c->mask);
        bp_for_each_node(w, id)
                if (c->mask & BALANCE_NODE_BIT(id))
                        w->pressure[id] += extra * w->node[id]->cpus / cpus;
        bp_work_reserve(w, d, c->mask, +1);
        if (!m)
                return;
        if (c->k == 1 && c->shared)
                snprintf(m->reason, sizeof(m->reason),
                         "with %u VM%s sharing pages: load %.2f with its %u vCPUs, %.1f GiB free for its %.1f GiB",
                         c->shared, c->shared == 1 ? "" : "s", c->load_after, d->vcpus,
                         bp_mib_to_gib(c->room), bp_mib_to_gib((double) bp_vm_need_mib(d)));
        else if (c->k == 1)
                snprintf(m->reason, sizeof(m->reason),
                         "most room: load %.2f with its %u vCPUs, %.1f GiB free for its %.1f GiB",
                         c->load_after, d->vcpus,
                         bp_mib_to_gib(c->room), bp_mib_to_gib((double) bp_vm_need_mib(d)));
        else
                snprintf(m->reason, sizeof(m->reason),
                         "bigger than one node (%u vCPUs, %.1f GiB): %u nodes, distance %u, "
                         "load %.2f, %.1f GiB free",
                         d->vcpus,
                         bp_mib_to_gib((double) bp_vm_need_mib(d)), c->k, c->distance, c->load_after,
                         bp_mib_to_gib(c->room));
}

void bp_plan_placement(struct bp_work *w)
{
        long i;

        while (w->plan->n_moves < BALANCE_PLAN_MAX_MOVES && (i = pick_unplaced(w)) >= 0) {
                struct choice c;

                w->state->vms[i].planned_tick = w->state->tick;
                if (!choose_nodes(w, &w->snap->domains[i], &c))
                        note_no_room(w, (size_t) i);
                else
                        place(w, (size_t) i, &c);
        }
}
