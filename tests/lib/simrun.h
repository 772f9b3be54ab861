/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Inside the model host: one run's state, shared by simmodel.c (the tick
 * loop), simbaselines.c (the policies that are not the daemon's) and
 * simscore.c (what the VMs get). Not for the simulator or the tests: they
 * use simmodel.h. */
#pragma once

#include "simmodel.h"

/* One tick of the model: the daemon's default interval. */
#define SIM_TICK_SEC 5.0

struct run {
        struct sim_host *h;
        const struct balance_params *p;
        enum sim_policy policy;
        FILE *trace;
        long t;
        uint64_t all;                          /* mask of every node */
        double used[SIM_MAX_NODES];            /* VM memory by node */
        double copied[SIM_MAX_NODES];          /* MiB migrated to each node since the last score */
        double *demand;                        /* by VM, this tick */
        struct balance_node nodes[SIM_MAX_NODES];
        struct balance_domain *doms;
        struct balance_vm *bvms;
        size_t *dom_vm;                        /* snapshot index -> VM index */
        size_t *order;                         /* numad's and bind-best's candidate order */
        size_t n_doms;
        struct balance_plan plan;
        struct balance_state state;            /* vms re-pointed every tick */
        long numad_next;
        /* The mover: one thread, as in vmtuned and seed 004's daemon,
         * copying at 1 / migrate_sec_per_gib GiB/s. Moves decided in a tick
         * queue here; while it is busy no policy decides (the daemon's tick
         * waits for its moves). */
        struct sim_migration {
                size_t vm;
                uint64_t to;
                double mib, moved;
                struct balance_move move;      /* vmtuned: its outcome goes back to the policy */
        } *queue;
        size_t n_queued;
        struct sim_result res;
        double local_sum, load_max_sum, load_min_sum, distance_sum, work_sum, dup_sum;
        long last_unbalanced;
};

/* simmodel.c */
double sim_node_free(const struct run *r, unsigned n);
uint64_t sim_vm_mask(const struct run *r, const struct sim_vm *vm);
unsigned sim_mask_cpus(const struct run *r, uint64_t mask);
double sim_vm_resident(const struct run *r, const struct sim_vm *vm);
void sim_mem_add(struct run *r, struct sim_vm *vm, unsigned n, double mib);
double sim_level_mean(const struct sim_vm *vm);

/* Where a VM's threads run, as shares of its demand by node (sum 1): by
 * CPUs over its mask, or, left to the kernel, simbaselines.c's model. */
void sim_vm_threads(const struct run *r, const struct sim_vm *vm, double w[SIM_MAX_NODES]);

/* simbaselines.c */
void sim_numad_plan(struct run *r, const struct balance_snapshot *snap, struct balance_plan *plan);
/* The node holding most of the VM's memory. */
unsigned sim_main_node(const struct run *r, const struct sim_vm *vm);
void sim_kernel_threads(const struct run *r, const struct sim_vm *vm, double w[SIM_MAX_NODES]);
void sim_kernel_autonuma(struct run *r);
void sim_bind_best(struct run *r, struct sim_vm *vm);
void sim_bind_best_start(struct run *r);

/* simscore.c: what the VMs got this tick (nr: node nr_running with jitter). */
void sim_score_tick(struct run *r, const double nr[SIM_MAX_NODES]);
void sim_score_finish(struct run *r);
