/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The policy's toolbox, shared by its stages (policy-place.c,
 * policy-rebalance.c, policy-memory.c, policy-seed.c) and the orchestrator
 * (policy.c): checking a snapshot, the tick's working copy (struct bp_work)
 * and what a planned move does to it, adding moves and notes to the plan,
 * and the numbers reasons print. It calls no stage: every file of the
 * policy depends on this one and on nothing else but policy.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy-internal.h"

/* The trigger with its lead (the difference and the ratio's margin above
 * 1) scaled by lead and the busiest load's floor by load (1, 1: rule 1's). */
static bool trigger_at(const struct balance_params *p, double lead, double load, double nr_high,
                       unsigned cpus_high, double nr_low, unsigned cpus_low)
{
        double load_high = nr_high / cpus_high, load_low = nr_low / cpus_low;

        if (nr_high - nr_low < lead * p->min_nr_running_diff)
                return false;
        if (load_high <= load * p->min_load_high)
                return false;
        /* An idle node has an infinite ratio: load_high > 0 holds here. */
        return load_low <= 0 || load_high / load_low > 1 + lead * (p->min_load_ratio - 1);
}

bool bp_slow_view_keeps(const struct balance_params *p, double nr_src, unsigned cpus_src, double nr_dst,
                        unsigned cpus_dst)
{
        return trigger_at(p, BALANCE_VERDICT_LEAD, BALANCE_SLOW_VIEW_LOAD, nr_src, cpus_src, nr_dst, cpus_dst);
}

/* Rule 1's trigger on one pair of nodes. */
bool balance_trigger(const struct balance_params *p, double nr_high, unsigned cpus_high,
                     double nr_low, unsigned cpus_low)
{
        return trigger_at(p, 1, 1, nr_high, cpus_high, nr_low, cpus_low);
}

bool bp_verdict_keeps(const struct balance_params *p, double nr_src, unsigned cpus_src, double nr_dst,
                      unsigned cpus_dst)
{
        return trigger_at(p, BALANCE_VERDICT_LEAD, BALANCE_VERDICT_LOAD, nr_src, cpus_src, nr_dst, cpus_dst);
}

int bp_validate(const struct balance_params *p, const struct balance_snapshot *snap)
{
        uint64_t seen = 0;

        if (!p || !snap || snap->n_nodes == 0 || snap->n_nodes > BALANCE_MAX_NODES)
                return -EINVAL;
        if (snap->n_domains > 0 && !snap->domains)
                return -EINVAL;
        for (size_t i = 0; i < snap->n_nodes; i++) {
                const struct balance_node *n = &snap->nodes[i];

                if (n->id >= BALANCE_MAX_NODES || (seen & BALANCE_NODE_BIT(n->id)) || n->cpus == 0)
                        return -EINVAL;
                if (!isfinite(n->nr_running) || n->nr_running < 0)
                        return -EINVAL;
                seen |= BALANCE_NODE_BIT(n->id);
        }
        for (size_t i = 0; i < snap->n_domains; i++)
                if (!isfinite(snap->domains[i].load) || snap->domains[i].load < 0)
                        return -EINVAL;
        return 0;
}

uint64_t bp_vm_resident_in(const struct balance_domain *d, uint64_t mask)
{
        uint64_t sum = 0;

        for (; mask; mask &= mask - 1)
                sum += d->mem_mib[bp_mask_first(mask)];
        return sum;
}

uint64_t bp_vm_resident(const struct balance_domain *d)
{
        return bp_vm_resident_in(d, UINT64_MAX);
}

/* What the VM will occupy where it lives: its configured size, or what it
 * already has if it is bigger (ballooned up, or size unknown). */
uint64_t bp_vm_need_mib(const struct balance_domain *d)
{
        uint64_t resident = bp_vm_resident(d);

        return d->mem_size_mib > resident ? d->mem_size_mib : resident;
}

unsigned bp_distance(const struct bp_work *w, unsigned a, unsigned b)
{
        unsigned dist = w->node[a]->distance[b];

        if (dist)
                return dist;
        return a == b ? 10 : 20;
}

unsigned bp_mask_cpus(const struct bp_work *w, uint64_t mask)
{
        unsigned cpus = 0;

        mask &= w->present;
        for (; mask; mask &= mask - 1)
                cpus += w->node[bp_mask_first(mask)]->cpus;
        return cpus;
}

/* A VM's load runs on its nodes in proportion to their CPUs (the kernel
 * balances within a cpuset). */
void bp_shift(const struct bp_work *w, double nr[], double load, uint64_t from, uint64_t to)
{
        unsigned cpus_from = bp_mask_cpus(w, from), cpus_to = bp_mask_cpus(w, to);

        bp_for_each_node(w, id) {
                if (cpus_from && (from & BALANCE_NODE_BIT(id)))
                        nr[id] -= load * w->node[id]->cpus / cpus_from;
                if (cpus_to && (to & BALANCE_NODE_BIT(id)))
                        nr[id] += load * w->node[id]->cpus / cpus_to;
        }
}

void bp_work_shift_vm(struct bp_work *w, size_t i, uint64_t from, uint64_t to)
{
        bp_shift(w, w->nr, w->state->vms[i].load_avg, from, to);
        bp_shift(w, w->slow, w->state->vms[i].load_slow, from, to);
}

/* Promise (sign +1) or release (-1) the memory a VM homed on mask will
 * still take there: its need less what it already has there. */
void bp_work_reserve(struct bp_work *w, const struct balance_domain *d, uint64_t mask, double sign)
{
        uint64_t need = bp_vm_need_mib(d), have = bp_vm_resident_in(d, mask);
        unsigned cpus = bp_mask_cpus(w, mask);

        if (need <= have || !cpus)
                return;
        bp_for_each_node(w, id)
                if (mask & BALANCE_NODE_BIT(id))
                        w->room[id] -= sign * (double) (need - have) * w->node[id]->cpus / cpus;
}

double bp_work_room(const struct bp_work *w, uint64_t mask)
{
        double room = 0;

        bp_for_each_node(w, id)
                if (mask & BALANCE_NODE_BIT(id))
                        room += w->room[id];
        return room;
}

/* Rule 6: its memory fits where it is not yet promised away, counting what
 * it already has there. */
bool bp_work_fits(const struct bp_work *w, const struct balance_domain *d, uint64_t mask)
{
        uint64_t need = bp_vm_need_mib(d), have = bp_vm_resident_in(d, mask);

        return need <= have || (double) (need - have) <= bp_work_room(w, mask);
}

/* Rule 8: a decision moving n VMs' CPUs fits the move budget. A swap or a
 * swap's revert is one decision: with max_moves_per_tick = 1 it may still
 * be the tick's only one. */
bool bp_work_may_move(const struct bp_work *w, long n)
{
        if (w->moves_left >= n)
                return true;
        return w->moves_left > 0 && w->cpu_moves == 0;
}

const char *bp_nodes_str(uint64_t mask, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = 0;
        for (; mask && len < size; mask &= mask - 1) {
                int r = snprintf(buf + len, size - len, "%snode%u", len ? "+" : "", bp_mask_first(mask));
                if (r < 0)
                        break;
                len += (size_t) r;
        }
        if (!buf[0])
                snprintf(buf, size, "no node");
        return buf;
}

double bp_mib_to_gib(double mib)
{
        return mib / 1024.0;
}

struct balance_move *bp_plan_add(struct bp_work *w, enum balance_move_kind kind, size_t i,
                              uint64_t from, uint64_t to, uint64_t mib)
{
        struct balance_plan *plan = w->plan;
        struct balance_move *m;

        if (plan->n_moves >= BALANCE_PLAN_MAX_MOVES)
                return NULL;
        m = &plan->moves[plan->n_moves++];
        *m = (struct balance_move) {
                .kind = kind,
                .domain = i,
                .domain_id = w->snap->domains[i].id,
                .from_nodes = from,
                .to_nodes = to,
                .migrate_mib = mib,
        };
        if (i < w->state->n_vms) /* the seed rule keeps no state */
                w->state->vms[i].planned_tick = w->state->tick;
        return m;
}

void bp_plan_note(struct bp_work *w, size_t i, const char *fmt, ...)
{
        struct balance_plan *plan = w->plan;
        struct balance_note *note;
        va_list ap;

        if (plan->n_notes >= BALANCE_PLAN_MAX_NOTES)
                return;
        note = &plan->notes[plan->n_notes++];
        note->domain = i;
        va_start(ap, fmt);
        vsnprintf(note->reason, sizeof(note->reason), fmt, ap);
        va_end(ap);
}

/* One pass over the domains with a table of BALANCE_SHARE_MAX_GROUPS
 * groups (open addressing): each domain of a group is appended to its
 * list, so counting a group's VMs on a node walks that group alone. */
void bp_share_link(struct bp_work *w)
{
        struct { unsigned group; size_t head, tail; } table[BALANCE_SHARE_MAX_GROUPS] = {};
        size_t used = 0;

        for (size_t i = 0; i < w->snap->n_domains; i++) {
                unsigned group = w->snap->domains[i].share_group;
                struct balance_vm *vm = &w->state->vms[i];
                size_t k;

                vm->share_head = vm->share_next = SIZE_MAX;
                if (!group)
                        continue;
                for (k = group % BALANCE_SHARE_MAX_GROUPS; table[k].group && table[k].group != group;
                     k = (k + 1) % BALANCE_SHARE_MAX_GROUPS)
                        ;
                if (!table[k].group) {
                        if (used + 1 >= BALANCE_SHARE_MAX_GROUPS)
                                continue;  /* full: keep one slot empty, so probing ends */
                        used++;
                        table[k].group = group;
                        table[k].head = i;
                } else {
                        w->state->vms[table[k].tail].share_next = i;
                }
                table[k].tail = i;
                vm->share_head = table[k].head;
        }
}

bool bp_share_count(const struct bp_work *w, size_t i, unsigned on[BALANCE_MAX_NODES])
{
        if (w->state->vms[i].share_head == SIZE_MAX)
                return false;
        memset(on, 0, BALANCE_MAX_NODES * sizeof(*on));
        for (size_t j = w->state->vms[i].share_head; j != SIZE_MAX; j = w->state->vms[j].share_next) {
                const struct balance_vm *o = &w->state->vms[j];

                if (j == i || o->phase == BALANCE_VM_NEW)
                        continue;
                for (uint64_t m = o->home & w->present; m; m &= m - 1)
                        on[bp_mask_first(m)]++;
        }
        return true;
}

unsigned bp_share_on(const struct bp_work *w, size_t i, unsigned node)
{
        unsigned n = 0;

        for (size_t j = w->state->vms[i].share_head; j != SIZE_MAX; j = w->state->vms[j].share_next)
                if (j != i && w->state->vms[j].phase != BALANCE_VM_NEW && (w->state->vms[j].home & BALANCE_NODE_BIT(node)))
                        n++;
        return n;
}

/* Rule 8: max_moves_per_tick for every BALANCE_VMS_PER_MOVE movable VMs
 * (begun), so the count grows with the host: one move a tick left 1,000
 * VMs on 8 nodes unbalanced for ~170 ticks (14 minutes). */
long bp_moves_per_tick(const struct balance_params *p, const struct balance_snapshot *snap)
{
        size_t movable = 0;

        if (p->max_moves_per_tick <= 0)
                return 0;
        for (size_t i = 0; i < snap->n_domains; i++)
                movable += snap->domains[i].movable;
        if (movable <= BALANCE_VMS_PER_MOVE)
                return p->max_moves_per_tick;
        return p->max_moves_per_tick * (long) ((movable + BALANCE_VMS_PER_MOVE - 1) / BALANCE_VMS_PER_MOVE);
}

void bp_work_init(struct bp_work *w, const struct balance_params *p,
                       const struct balance_snapshot *snap, struct balance_state *state,
                       struct balance_plan *plan)
{
        *w = (struct bp_work) {
                .p = p, .snap = snap, .state = state, .plan = plan,
                .moves_left = bp_moves_per_tick(p, snap),
                .mib_budget = balance_migrate_budget_mib(p, state),
        };
        w->mib_left = w->mib_budget;
        for (size_t i = 0; i < snap->n_nodes; i++) {
                const struct balance_node *n = &snap->nodes[i];

                w->present |= BALANCE_NODE_BIT(n->id);
                w->node[n->id] = n;
                w->nr[n->id] = n->nr_running;
                w->room[n->id] = (double) n->mem_free_mib;
                w->total_cpus += n->cpus;
        }
        plan->n_moves = plan->n_notes = 0;
        plan->reason[0] = 0;
}
