/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the balance_*.c files only: the working copy of one tick. */
#pragma once

#include "balance/policy.h"
#include "base/util.h"

/* One tick's view, updated as moves are planned so that each next decision
 * sees the host as the plan so far leaves it. Arrays are by node id. */
struct balance_work {
        const struct balance_params *p;
        const struct balance_snapshot *snap;
        struct balance_state *state;
        struct balance_plan *plan;
        uint64_t present;                                   /* node ids in the snapshot */
        unsigned total_cpus;
        const struct balance_node *node[BALANCE_MAX_NODES];
        double nr[BALANCE_MAX_NODES];        /* nr_running as the plan leaves it */
        double pressure[BALANCE_MAX_NODES];  /* vCPUs placed this tick beyond their load */
        double room[BALANCE_MAX_NODES];      /* MiB free minus memory promised to placed VMs */
        double sched_in[BALANCE_MAX_NODES];  /* MiB planned to migrate into the node now */
        long moves_left;                     /* of max_moves_per_tick */
        double mib_left;                     /* of max_migrate_mib_per_tick */
        long cpu_moves;                      /* CPU moves planned this tick */
};

#define for_each_node(w, id) \
        for (unsigned id = 0; id < BALANCE_MAX_NODES; id++) if ((w)->present & BALANCE_NODE_BIT(id))

static inline bool mask_single(uint64_t mask)
{
        return mask && !(mask & (mask - 1));
}

static inline unsigned mask_first(uint64_t mask)
{
        return (unsigned) __builtin_ctzll(mask);
}

static inline double node_load(const struct balance_work *w, unsigned id)
{
        return w->nr[id] / w->node[id]->cpus;
}

/* The domain's smoothed load (balance_plan() only: the seed rule has no state). */
static inline double dom_load(const struct balance_work *w, const struct balance_domain *d)
{
        return w->state->vms[d - w->snap->domains].load_avg;
}

/* balance.c */
int balance_validate(const struct balance_params *p, const struct balance_snapshot *snap);
void balance_work_init(struct balance_work *w, const struct balance_params *p,
                       const struct balance_snapshot *snap, struct balance_state *state,
                       struct balance_plan *plan);
unsigned balance_distance(const struct balance_work *w, unsigned a, unsigned b);
uint64_t vm_resident(const struct balance_domain *d);
uint64_t vm_resident_in(const struct balance_domain *d, uint64_t mask);
uint64_t vm_need_mib(const struct balance_domain *d);
unsigned mask_cpus(const struct balance_work *w, uint64_t mask);
void work_shift_load(struct balance_work *w, double load, uint64_t from, uint64_t to);
void work_reserve(struct balance_work *w, const struct balance_domain *d, uint64_t mask, double sign);
bool work_fits(const struct balance_work *w, const struct balance_domain *d, uint64_t mask);
double work_room(const struct balance_work *w, uint64_t mask);
bool work_may_move(const struct balance_work *w, long n);
struct balance_move *plan_add(struct balance_work *w, enum balance_move_kind kind, size_t i,
                              uint64_t from, uint64_t to, uint64_t mib);
void plan_note(struct balance_work *w, size_t i, const char *fmt, ...) _printf_(3, 4);
const char *nodes_str(uint64_t mask, char *buf, size_t size);
double mib_to_gib(double mib);
void plan_memory(struct balance_work *w);

/* balance_place.c */
void plan_placement(struct balance_work *w);

/* balance_rebalance.c */
void plan_probation(struct balance_work *w);
void plan_rebalance(struct balance_work *w);
