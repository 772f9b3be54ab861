/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A model host for the NUMA balancer: nodes with CPUs and memory, VMs with
 * vCPUs, memory and a per-tick CPU demand. Shared by the simulator
 * (tests/bench/sim.c links the tests/lib/sim*.c files) and the regression tests
 * (tests/unit/test-balance-sim.c), so both replay the same scenarios.
 *
 * One tick is one balancer interval (5 s). A node's nr_running is the
 * demand of the VMs on it (a VM's demand split over its nodes by CPUs) plus
 * host background. Memory grows by first touch where the VM's CPUs run and
 * moves only when a plan migrates it, so locality is measured, not assumed.
 * Each tick scores the work each VM got (simscore.c): its CPU share times
 * its memory speed, less what its migrations cost.
 * Deterministic: all randomness is a hash of (scenario, VM, tick). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "balance/policy.h"

#define SIM_MAX_NODES 8

struct sim_vm {
        unsigned id;
        char name[32];
        unsigned vcpus;
        double mem_size_mib;
        double resident[SIM_MAX_NODES];   /* MiB by node */
        double grow_mib_per_tick;         /* first touch, until mem_size_mib */
        /* Demand (runnable threads): level_hi, or level_hi and level_lo
         * taking turns every period ticks (shifted by phase), plus a
         * uniform [0, jitter) per tick. */
        double level_hi, level_lo;
        long period, phase;
        double jitter;
        /* Bursts of seconds: in a share burst_p of the ticks, burst more
         * runnable threads for a uniform part of the 5 s. */
        double burst, burst_p;
        long arrive, leave;               /* runs for arrive <= t < leave; leave < 0: to the end */
        uint64_t cpu_nodes;               /* 0: not placed (runs on every node) */
        bool movable;
        /* Clones: VMs with the same nonzero share_group share shared_mib
         * through KSM, once per node they are on (merge_across_nodes=0). */
        unsigned share_group;
        double shared_mib;
        /* kept by the run */
        bool alive;
        struct balance_vm bstate;         /* vmtuned's per-VM state */
        long numad_moved;                 /* tick of the numad-like policy's last move */
        long moves;
        uint64_t moved_from;              /* the CPU nodes its last move left; 0: never moved */
        long returns;                     /* moves back to the nodes its previous move left */
        long remote_since;                /* first tick of its memory mostly elsewhere; -1: local */
        double work_sum, demand_sum;      /* CPU-seconds / 5 s got and asked for, over the run */
};

struct sim_host {
        unsigned n_nodes;
        unsigned cpus[SIM_MAX_NODES];
        double mem_total_mib[SIM_MAX_NODES];
        double host_used_mib[SIM_MAX_NODES]; /* what is not the VMs' */
        double background[SIM_MAX_NODES];    /* host nr_running */
        uint8_t distance[SIM_MAX_NODES][SIM_MAX_NODES];
        struct sim_vm *vms;
        size_t n_vms;
        uint64_t seed;
};

struct sim_scenario {
        const char *name;
        const char *what;
        long ticks;
        void (*build)(struct sim_host *h);
};

extern const struct sim_scenario sim_scenarios[]; /* {NULL} terminated */
const struct sim_scenario *sim_scenario_find(const char *name);

enum sim_policy {
        SIM_KERNEL,      /* no balancer: VMs float, memory first touch + autonuma-like migration */
        SIM_BIND_START,  /* manual binding where the VMs start (seed 004's 20-VM "manual binding") */
        SIM_BIND_BEST,   /* manual binding, best static placement by mean load (seed 004's 40-VM one) */
        SIM_SEED,        /* balance_seed_rule_plan() */
        SIM_NUMAD,       /* numad-like, from the anchors' description */
        SIM_VMTUNED,     /* balance_plan() */
        _SIM_POLICY_MAX,
};

/* The model's constants (simscore.c has the formula and how each was
 * fitted); sim_model starts at the fitted values, `sim --calibrate` fits
 * them again. */
struct sim_model {
        double mbs_per_cpu;          /* MB/s of dbench per CPU of delivered work */
        double remote_penalty;       /* extra access time at distance 20, over local (10) */
        double kernel_spread;        /* kernel alone: share of a VM's run time away from its memory's node */
        double autonuma_mib_per_tick; /* kernel alone: memory moved toward the threads, per VM */
        double migrate_sec_per_gib;  /* CPU seconds a VM loses per GiB of its memory migrated */
};

extern struct sim_model sim_model;

const char *sim_policy_name(enum sim_policy policy);

struct sim_result {
        long ticks;
        long ticks_to_balance;        /* first tick from which it stays balanced; -1: not at the end */
        double final_max_load;        /* node load (nr_running / cpus), mean of the last 10 ticks */
        double final_min_load;
        double final_max_over_avg;    /* busiest node's demand level / the average, at the end */
        long moves;                   /* VM CPU moves: cpu, swap halves, reverts */
        long reverts;
        long placements;
        long max_moves_per_vm;
        long max_returns_per_vm;      /* most moves of one VM back to where its previous move took it from */
        double mem_moved_gib;
        double local_fraction;        /* VM memory on its CPUs' nodes, time average */
        /* Longest a VM that one tick's migrate budget could move whole
         * spent with its memory mostly (> half) off its CPUs' nodes. */
        long small_wait_max;
        double move_distance_avg;     /* node distance of CPU moves (first node to first node); 0: none */
        double throughput_mbs;        /* all VMs' work, mean over ticks, in seed 004's MB/s */
        double fairness;              /* slowest VM's work / its demand over the run */
        double ksm_dup_gib;           /* shared memory held twice or more (groups split), mean over ticks */
        double decide_usec_avg;       /* the policy call alone; a benchmark figure */
        double decide_usec_max;
};

/* The parameters the simulator and its tests use (documented in tests/bench/README.md). */
void sim_params_default(struct balance_params *ret);
/* The same from a vmtuned.conf (its [balancer]; a missing file is all
 * defaults); -errno after saying why on stderr. */
int sim_params_from_file(const char *path, struct balance_params *ret);

/* Build the scenario, run it for its ticks under policy; -EINVAL, or the
 * policy's error. If trace is not NULL, every tick's plan goes there. */
int sim_run(const struct sim_scenario *sc, enum sim_policy policy, const struct balance_params *p,
            FILE *trace, struct sim_result *ret);

/* The same on a host the caller built (taken over and freed); ticks > 0. */
int sim_run_host(struct sim_host *h, long ticks, enum sim_policy policy, const struct balance_params *p,
                 FILE *trace, struct sim_result *ret);

/* Helpers for building hosts. */
void sim_host_init(struct sim_host *h, unsigned n_nodes, unsigned cpus, double mem_gib, uint64_t seed);
struct sim_vm *sim_host_add_vm(struct sim_host *h, const char *name, unsigned vcpus, double mem_gib,
                               double level);
void sim_host_free(struct sim_host *h);
double sim_rand(uint64_t seed, uint64_t a, uint64_t b); /* [0, 1) */
