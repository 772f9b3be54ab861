/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the policy*.c files only: the working copy of one tick and the
 * toolbox (policy-plan.c) that the stages and the orchestrator use, every
 * name prefixed bp_ (balancer policy); then each stage's entry point, which
 * only the orchestrator (policy.c) calls. */
#pragma once

#include "balance/policy.h"
#include "base/util.h"

/* One tick's view, updated as moves are planned so that each next decision
 * sees the host as the plan so far leaves it. Arrays are by node id. */
struct bp_work {
        const struct balance_params *p;
        const struct balance_snapshot *snap;
        struct balance_state *state;
        struct balance_plan *plan;
        uint64_t present;                                   /* node ids in the snapshot */
        unsigned total_cpus;
        const struct balance_node *node[BALANCE_MAX_NODES];
        double nr[BALANCE_MAX_NODES];        /* nr_running as the plan leaves it */
        double slow[BALANCE_MAX_NODES];      /* the same with each VM at its load_slow */
        double last[BALANCE_MAX_NODES];      /* nr as the last plan left it (valid: state->nr_avg_valid) */
        double pressure[BALANCE_MAX_NODES];  /* vCPUs placed this tick beyond their load */
        double room[BALANCE_MAX_NODES];      /* MiB free minus memory promised to placed VMs */
        double sched_in[BALANCE_MAX_NODES];  /* MiB planned to migrate into the node now */
        long moves_left;                     /* of max_moves_per_tick */
        double mib_budget;                   /* this tick's, balance_migrate_budget_mib() */
        double mib_left;                     /* of mib_budget */
        long cpu_moves;                      /* CPU moves planned this tick */
        double idle_floor;                   /* p->idle_floor, or lower on a host of light VMs */
};

#define bp_for_each_node(w, id) \
        for (unsigned id = 0; id < BALANCE_MAX_NODES; id++) if ((w)->present & BALANCE_NODE_BIT(id))

static inline unsigned bp_mask_first(uint64_t mask)
{
        return (unsigned) __builtin_ctzll(mask);
}

static inline double bp_node_load(const struct bp_work *w, unsigned id)
{
        return w->nr[id] / w->node[id]->cpus;
}

/* The domain's smoothed load (balance_plan() only: the seed rule has no state). */
static inline double bp_dom_load(const struct bp_work *w, const struct balance_domain *d)
{
        return w->state->vms[d - w->snap->domains].load_avg;
}

/* --- policy-plan.c: the toolbox ------------------------------------------ */

/* 0 if snap can be planned on; -EINVAL as balance_plan() says. */
int bp_validate(const struct balance_params *p, const struct balance_snapshot *snap);
/* Start a tick's work on snap; empties plan. */
void bp_work_init(struct bp_work *w, const struct balance_params *p, const struct balance_snapshot *snap,
                  struct balance_state *state, struct balance_plan *plan);
/* Rule 1's slow view: with every VM at its slow average, does the source
 * lead the target by the verdict's lower bar, and is it busy by the
 * trigger's own min_load_high (BALANCE_SLOW_VIEW_LOAD, policy.h)? */
bool bp_slow_view_keeps(const struct balance_params *p, double nr_src, unsigned cpus_src, double nr_dst,
                        unsigned cpus_dst);
/* Rule 4's verdict: would the source, without the move, still lead the
 * target by the verdict's lower bar (BALANCE_VERDICT_*, policy.h)? */
bool bp_verdict_keeps(const struct balance_params *p, double nr_src, unsigned cpus_src, double nr_dst,
                      unsigned cpus_dst);
unsigned bp_distance(const struct bp_work *w, unsigned a, unsigned b);
unsigned bp_mask_cpus(const struct bp_work *w, uint64_t mask);
/* MiB resident anywhere, on the nodes of mask; what it will occupy where it lives. */
uint64_t bp_vm_resident(const struct balance_domain *d);
uint64_t bp_vm_resident_in(const struct balance_domain *d, uint64_t mask);
uint64_t bp_vm_need_mib(const struct balance_domain *d);
/* What a planned move does to the work: load from one mask to another,
 * memory promised (+1) or released (-1) on a VM's home. */
/* load from one mask to another on a per-node array (from or to may be 0:
 * load appears or goes). */
void bp_shift(const struct bp_work *w, double nr[], double load, uint64_t from, uint64_t to);
/* Domain i's smoothed load (nr) and slow load (slow) from one mask to another. */
void bp_work_shift_vm(struct bp_work *w, size_t i, uint64_t from, uint64_t to);
void bp_work_reserve(struct bp_work *w, const struct balance_domain *d, uint64_t mask, double sign);
double bp_work_room(const struct bp_work *w, uint64_t mask);
bool bp_work_fits(const struct bp_work *w, const struct balance_domain *d, uint64_t mask);
bool bp_work_may_move(const struct bp_work *w, long n);
/* KSM groups (BALANCE_SHARE_*, policy.h): link each domain's share_head and
 * share_next for this tick; then the other domains of domain i's group
 * whose CPUs are homed on node (planned moves included). */
void bp_share_link(struct bp_work *w);
unsigned bp_share_on(const struct bp_work *w, size_t i, unsigned node);
/* The same for every node at once, into on[] (by node id); false, on[]
 * untouched, when domain i has no group. */
bool bp_share_count(const struct bp_work *w, size_t i, unsigned on[BALANCE_MAX_NODES]);
/* Rule 8's move count for this host (policy.h, BALANCE_VMS_PER_MOVE). */
long bp_moves_per_tick(const struct balance_params *p, const struct balance_snapshot *snap);
/* A new move for domain i (NULL when the plan is full), or a note. */
struct balance_move *bp_plan_add(struct bp_work *w, enum balance_move_kind kind, size_t i, uint64_t from,
                                 uint64_t to, uint64_t mib);
void bp_plan_note(struct bp_work *w, size_t i, const char *fmt, ...) _printf_(3, 4);
/* "node0+node2", "no node" for 0: for reasons and notes. */
const char *bp_nodes_str(uint64_t mask, char *buf, size_t size);
double bp_mib_to_gib(double mib);

/* --- the stages: balance_plan() (policy.c) runs probation, placement,
 * rebalancing and memory, in that order; the rules are policy.h's ------- */

/* policy-rebalance.c: probation verdicts (rule 4); rebalancing (rules 1, 3,
 * 7, 8, with 6 and 9 in its checks). */
void bp_plan_probation(struct bp_work *w);
void bp_plan_rebalance(struct bp_work *w);
/* policy-place.c: placement of new VMs (rules 2 and 6). */
void bp_plan_placement(struct bp_work *w);
/* policy-memory.c: memory follows the CPUs (rule 5). */
void bp_plan_memory(struct bp_work *w);
