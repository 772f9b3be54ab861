/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The NUMA balancer policy: snapshot in, plan out.
 *
 * Pure code (DESIGN "Policy is pure"): no file, no library call but
 * snprintf, no logging, no allocation, no clock. The daemon calls
 * balance_plan() every interval with what the sampler measured; the unit
 * tests call it on struct literals; tests/bench/sim.c replays scenarios through it.
 *
 * Nodes are named by their kernel id everywhere (masks, per-node arrays,
 * distances), as cpuset.mems and numa_maps name them; ids must be below
 * BALANCE_MAX_NODES. Loads are average runnable threads over the interval
 * (nr_running), a node's load is nr_running / cpus as in seed 004.
 *
 * What must survive ticks (probation, cooldown, move counts) lives in a
 * struct balance_vm per domain that the caller owns and passes in through
 * struct balance_state, parallel to the snapshot's domains; the state
 * also keeps smoothed node loads, so keep one balance_state for the life
 * of the balancer. A zeroed struct balance_vm is a domain never seen
 * before. To ask "what would the balancer do now" without acting
 * (vmtunectl plan), pass a copy of both.
 *
 * This is the decision only. The tick that samples, builds the snapshot,
 * carries the plan out and logs it is balancer.c; it hands each move's
 * outcome back through balance_record_result().
 *
 * The rules (DESIGN "NUMA balancer"), numbered here once; "rule N" in any
 * comment of the policy, the balancer or the tests means this list:
 *  1. Act only when two nodes meet seed 004's trigger (balance_trigger()), on smoothed loads, met it
 *     as the last plan left them too, and the source still leads by the verdict's lower bar (rule 4)
 *     and is busy with every VM at its slow average: a burst of seconds moves nothing.
 *  2. Place a new VM where its vCPUs and memory have most room (with VMs sharing its pages if nearly as
 *     good); one bigger than a node on the fewest, closest.
 *  3. Move the VM that reduces the imbalance most per MiB to migrate (times the node distance),
 *     now and with every VM at its slow average, a move after which VMs sharing pages span fewer
 *     nodes before one after which they span more (BALANCE_SHARE_BONUS), never one that overshoots
 *     (reverses more than half of the difference between the two nodes).
 *  4. CPUs move first; after probation_ticks memory follows if still needed without the VM (a lower
 *     bar than the trigger's), else they go back. No probation for a single move after which its
 *     nodes still meet the trigger, nor for one whose nodes meet it with every VM at its slow average
 *     (a steady imbalance): its memory follows at once. A probation ends early, the move kept, once
 *     without the VM its nodes meet the whole trigger on the means so far and in the slow view.
 *  5. Memory follows the CPUs, within max_migrate_mib_per_tick for all VMs together and what the
 *     measured migration rate copies in 80 % of a tick: the VM waiting longest gets at least a share,
 *     then the most urgent (load times its memory's extra distance, per remote MiB squared) get what
 *     they need, so a small VM never waits behind a big one and VMs finish one after another.
 *  6. Never home a VM where its memory does not fit.
 *  7. Swap two VMs when no single move helps.
 *  8. At most max_moves_per_tick CPU moves a tick per 50 VMs, never a VM twice a tick; a VM that
 *     moved stays cooldown_ticks, and while its memory still follows it, and goes back to the nodes
 *     it came from only after BALANCE_RETURN_COOLDOWNS cooldowns.
 *  9. Never move or place a VM that is not movable (pinned by the administrator, or excluded).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct balancer_conf;

#define BALANCE_MAX_NODES 64       /* node ids 0..63: masks are uint64_t */
#define BALANCE_REASON_MAX 256
#define BALANCE_PLAN_MAX_MOVES 64  /* more placements wait for the next tick */
#define BALANCE_PLAN_MAX_NOTES 16

#define BALANCE_NODE_BIT(id) (UINT64_C(1) << (id))

struct balance_params {
        /* Trigger, seed 004: act when high - low >= min_nr_running_diff,
         * load_high / load_low > min_load_ratio and load_high > min_load_high. */
        double min_nr_running_diff;
        double min_load_ratio;
        double min_load_high;
        long probation_ticks;          /* CPUs first; memory after this many ticks */
        long cooldown_ticks;           /* a VM that moved stays this many ticks */
        /* CPU moves and reverts per BALANCE_VMS_PER_MOVE movable VMs
         * (begun); a swap's two halves count as two, but a swap may be the
         * only decision of a tick when this is 1. Placing a new VM is not
         * counted: it is never held back. 0: no moves. */
        long max_moves_per_tick;
        long max_migrate_mib_per_tick; /* memory migrated per tick, all VMs together; 0: none */
        double interval_sec;           /* one tick; with the measured rate, bounds a tick's memory */
        /* A VM (or a swap's net load) below this many runnable threads,
         * smoothed or in its last interval, is not moved: it fixes nothing. Lowered to BALANCE_IDLE_FLOOR_SHARE
         * of the mean VM load when that is less (see balance_plan()). */
        double idle_floor;
        /* Not in vmtuned.conf; balance_params_from_conf() sets the defaults. */
        long move_cost_mib;            /* fixed cost of any move, as MiB to migrate */
        long local_min_permille;       /* memory locality: migrate below this local share */
};

#define BALANCE_DEFAULT_MOVE_COST_MIB 256
#define BALANCE_DEFAULT_LOCAL_MIN_PERMILLE 500  /* "most memory elsewhere" */
/* The idle floor follows the host down: on a host of light VMs (0.4
 * each) a fixed 0.5 left every VM "too idle to help" while one node ran at
 * 1.34 and another at 0.23. Half the mean load of the movable, placed VMs
 * still keeps the idle ones among them where they are. */
#define BALANCE_IDLE_FLOOR_SHARE 0.5
/* Loads are smoothed over ticks, x += ALPHA * (sample - x), so that a VM
 * busy for one interval does not move, nor a node busy for one interval
 * trigger; the plan's own moves correct the averages at once. */
#define BALANCE_LOAD_ALPHA 0.5
/* The longer view (rule 3): each VM's load also averaged with this weight,
 * a time constant of 1/ALPHA ticks (~21 minutes at 5 s). A move is judged
 * both on the node loads now and on the node loads with every VM at its
 * slow average, so a VM busy by day and idle by night counts for what it
 * is over time: by day the balancer then moves the VMs whose load is
 * passing (which night undoes by itself) rather than the steady ones
 * (which the next night would move back). The day-night scenario chased
 * the same steady VMs back and forth each half-cycle without it. */
#define BALANCE_LOAD_SLOW_ALPHA (1.0 / 256)
/* Hysteresis (rule 3): a move may leave the target ahead of the source by
 * at most this share of the source's lead before it (nor so far that the
 * trigger fires the other way), so it never invites the move back. */
#define BALANCE_MAX_REVERSE 0.5
/* Hysteresis (rule 4): probation keeps a move if, without it, the nodes
 * would still meet the trigger with its lead (difference, ratio above 1)
 * cut to LEAD and the busiest load's floor to LOAD: noise that takes a
 * pair just below the trigger does not undo a move made on it, while a
 * burst that is over (the busiest node then well below min_load_high)
 * still does. */
#define BALANCE_VERDICT_LEAD 0.5
#define BALANCE_VERDICT_LOAD 0.75
/* Rule 1's slow view asks the verdict's lead but the trigger's whole
 * min_load_high: a node busy only in bursts is not busy over time, and
 * its slow view's lead is the noise of a few dozen samples (bursty: 14
 * moves, 5 reverted with the verdict's 0.75; 10 and 4 with 1). */
#define BALANCE_SLOW_VIEW_LOAD 1.0
/* Rule 8 at scale: max_moves_per_tick is per this many movable VMs. CPU
 * moves are not bounded by the memory that will follow them: every move
 * leaves a node over its CPUs (the trigger's min_load_high), where a VM
 * loses more to waiting for a CPU than to remote memory, and its memory
 * follows within the tick's migration budget over the next ticks (rule
 * 5), the VM staying put until it has (R_MIGRATING). With migrations that
 * take time (make sim), bounding a tick's moves by its budget left 1,000
 * VMs on 8 nodes unbalanced for the whole run (the slowest VM at 0.21 of
 * its demand instead of 0.34) and 120 light VMs balanced at t=12 instead
 * of t=4, for 1.5 % less throughput. */
#define BALANCE_VMS_PER_MOVE 50
/* Rule 8: a VM goes back to the nodes its last move took it from only
 * after this many cooldowns (policy-rebalance.c's goes_back()). */
#define BALANCE_RETURN_COOLDOWNS 5
/* Rule 5: a tick's memory budget is also what the mover copies in this
 * share of the interval at the rate its memory moves measured
 * (balance_state.migrate_mib_per_sec), so its moves end before the next
 * tick: a tick that overruns delays every later decision (the simulator
 * showed a budget above what one interval copies doing worse than one
 * below it), and the watchdog's ping waits for it. */
#define BALANCE_MIGRATE_TICK_SHARE 0.8
/* A memory move smaller than this says little about the rate: the fixed
 * cost of its cgroup writes and numa_maps reads dominates. */
#define BALANCE_MIGRATE_RATE_MIN_MIB 64
/* Until a memory move measured the rate, at most this much a tick: seed
 * 004's rate (2 GiB in 4.2-6.9 s) copies it in about half of a 5 s tick. */
#define BALANCE_MIGRATE_UNMEASURED_MIB 1024
/* The measured rate, smoothed: x += ALPHA * (sample - x). */
#define BALANCE_MIGRATE_RATE_ALPHA 0.3
/* Rule 5: the VM whose memory has waited longest gets at least this share
 * of a tick's memory budget (1/SHARES), the most urgent ones the rest. */
#define BALANCE_MEMORY_SHARES 4
/* KSM-aware co-location (rule 3, and rule 2 for placement): VMs of one
 * share_group (same backing image, or the administrator says so) share
 * pages through KSM only on one node when merge_across_nodes is 0, and
 * cross-node merging costs remote accesses when it is 1; a group split
 * over nodes duplicates what it shared. A move after which its group
 * spans fewer nodes (the last member leaving a node) counts as this much
 * better (its imbalance reduced per MiB multiplied), one after which it
 * spans more (the first member on a node) as this much worse, and joining
 * members on a node the group already spans as neither: a group stays
 * together when another move helps the balance nearly as much, never when
 * nothing else helps, and once one member has moved the next follows it. */
#define BALANCE_SHARE_BONUS 1.5
/* Placement puts a new VM with its group if that node's load after it is
 * within this much (runnable threads per CPU) of the least loaded choice. */
#define BALANCE_SHARE_PLACE_SLACK 0.1
/* At most this many distinct groups are followed in one tick (a table on
 * the stack: the policy allocates nothing); VMs of further groups are
 * treated as sharing with none. */
#define BALANCE_SHARE_MAX_GROUPS 1024
/* Memory that follows a move is done once this share of it is local. */
#define BALANCE_LOCAL_DONE_PERMILLE 980

void balance_params_from_conf(const struct balancer_conf *conf, struct balance_params *ret);

struct balance_node {
        unsigned id;
        unsigned cpus;
        double nr_running;              /* average runnable threads over the interval */
        uint64_t mem_total_mib;
        uint64_t mem_free_mib;
        /* By node id, as /sys/devices/system/node/nodeN/distance; 0 where
         * unknown (10 is assumed for itself, 20 for others). */
        uint8_t distance[BALANCE_MAX_NODES];
};

struct balance_domain {
        unsigned id;                    /* stable while the domain runs; matches its balance_vm */
        const char *name;
        unsigned vcpus;
        double load;                    /* average runnable threads over the interval */
        uint64_t mem_size_mib;          /* configured memory; 0: unknown, the resident sum is used */
        uint64_t mem_mib[BALANCE_MAX_NODES]; /* resident MiB by node id */
        /* Nodes its vCPUs may run on now. 0 or every node: not placed; a VM
         * never seen before with a narrower mask is taken as placed there. */
        uint64_t cpu_nodes;
        bool movable;
        const char *not_movable_reason; /* e.g. "pinned by <vcpupin>", "excluded" */
        /* Domains with the same nonzero share_group are likely to share
         * pages through KSM (same backing image or template); 0: none known. */
        unsigned share_group;
};

struct balance_snapshot {
        const struct balance_node *nodes;
        size_t n_nodes;
        const struct balance_domain *domains;
        size_t n_domains;
};

enum balance_phase {
        BALANCE_VM_NEW = 0,        /* not seen yet, or seen but not placed */
        BALANCE_VM_SETTLED,        /* on its home nodes */
        BALANCE_VM_PROBATION,      /* CPUs moved to home, memory waits on prev */
};

/* Per-domain state that survives ticks; owned by the caller. */
struct balance_vm {
        unsigned id;               /* domain id this belongs to; another id resets it */
        enum balance_phase phase;
        uint64_t home;             /* node mask vmtuned keeps its CPUs on */
        uint64_t prev;             /* in probation: where the CPUs came from */
        bool migrating;            /* memory is following its CPUs, spread over ticks */
        bool has_partner;          /* in probation of a swap with partner_id */
        unsigned partner_id;
        long probation_ticks;      /* ticks spent in probation so far */
        double sum_src_nr, sum_dst_nr, sum_load; /* over probation, for the verdict */
        long ticks_since_move;     /* cooldown */
        long moves;                /* CPU moves, reverts included; placement not */
        long reverts;
        bool has_load_avg;
        double load_avg;           /* the domain's load, smoothed over ticks */
        double load_slow;          /* the same over hours (BALANCE_LOAD_SLOW_ALPHA) */
        /* Ticks in load_slow. Until there are 1/BALANCE_LOAD_SLOW_ALPHA,
         * load_slow is their plain mean: started at the first sample with
         * weight 1/256, a VM caught in a burst at start-up kept a burst's
         * load in its slow view for an hour, and the bursty scenario moved
         * (and reverted) VMs on it. */
        uint64_t load_samples;
        bool probation_passed;     /* the next memory move says why (sum_* hold the means) */
        uint64_t planned_tick;     /* last tick a plan entry was made for it */
        uint64_t memory_tick;      /* last tick its memory was considered */
        uint64_t waiting_since;    /* first tick its memory waited to follow it; 0: not waiting */
        /* Set by every balance_plan(), meaningless between: the domains
         * of its share_group as a list (indices into the snapshot;
         * SIZE_MAX ends it), each pointing at the first and the next. */
        size_t share_head, share_next;
};

struct balance_state {
        uint64_t tick;
        /* Node nr_running smoothed over ticks (by node id; valid where the
         * bit is set), and corrected by the load each plan moves. */
        uint64_t nr_avg_valid;
        double nr_avg[BALANCE_MAX_NODES];
        struct balance_vm *vms;    /* vms[i] belongs to snapshot->domains[i] */
        size_t n_vms;              /* == snapshot->n_domains */
        double migrate_mib_per_sec; /* memory moves' measured rate (balance_record_result); 0: none yet */
};

enum balance_move_kind {
        BALANCE_MOVE_CPU,          /* vCPUs to to_nodes (memory follows later, or with migrate_mib) */
        BALANCE_MOVE_MEMORY,       /* migrate_mib MiB from outside to_nodes into to_nodes */
        BALANCE_MOVE_REVERT,       /* probation failed: vCPUs back to to_nodes */
        BALANCE_MOVE_PLACE,        /* new VM: vCPUs to to_nodes */
        BALANCE_MOVE_SWAP,         /* one half of a swap: vCPUs to to_nodes */
};
#define BALANCE_MOVE_KINDS 5       /* counters by kind are arrays of this size */

const char *balance_move_kind_to_string(enum balance_move_kind kind);

/* The mover: for every kind but MEMORY set the vCPUs' nodes to to_nodes;
 * then, if migrate_mib > 0, migrate up to that much of the domain's memory
 * from nodes outside to_nodes into to_nodes. */
struct balance_move {
        enum balance_move_kind kind;
        size_t domain;             /* index in snapshot->domains */
        unsigned domain_id;
        uint64_t from_nodes;
        uint64_t to_nodes;
        uint64_t migrate_mib;
        char reason[BALANCE_REASON_MAX];
};

/* Something the policy wanted to do for one domain and could not. */
struct balance_note {
        size_t domain;
        char reason[BALANCE_REASON_MAX];
};

struct balance_plan {
        size_t n_moves;
        struct balance_move moves[BALANCE_PLAN_MAX_MOVES];
        size_t n_notes;
        struct balance_note notes[BALANCE_PLAN_MAX_NOTES];
        /* Why no (further) rebalancing move was made, with the numbers. */
        char reason[BALANCE_REASON_MAX];
};

/* vmtuned's policy. Reads snap, updates state as if the plan were carried
 * out (a move that fails shows in the next snapshot and the state follows
 * it), fills *ret. -EINVAL on an inconsistent snapshot or state (node id out
 * of range or twice, cpus == 0, state->n_vms != n_domains); then neither
 * state nor *ret are touched. */
int balance_plan(const struct balance_params *p, const struct balance_snapshot *snap,
                 struct balance_state *state, struct balance_plan *ret);

/* What carrying out one move of the plan showed, as the tick (balancer.c)
 * saw it. */
struct balance_result {
        int error;                 /* 0, or the move's -errno when it failed */
        bool dry_run;              /* nothing was moved, on purpose */
        uint64_t migrated_mib;     /* memory it migrated */
        uint64_t remote_mib;       /* the domain's memory still outside to_nodes after it */
        uint64_t elapsed_usec;     /* how long the move took */
};

/* The policy's side of a move's outcome, for what no snapshot shows: a
 * memory move that migrated nothing stops the chase (rule 5) until most of
 * the VM's memory is elsewhere again, and one that migrated at least
 * BALANCE_MIGRATE_RATE_MIN_MIB teaches the rate that bounds the next
 * ticks' memory (balance_migrate_budget_mib()). m is a move of the last plan and
 * state the one that plan updated (state->vms still parallel to its
 * snapshot). Returns true if the state changed, with why in ret_reason
 * (size bytes) for the log; false and ret_reason untouched otherwise. */
bool balance_record_result(struct balance_state *state, const struct balance_move *m,
                           const struct balance_result *res, char *ret_reason, size_t size);

/* Rule 5's budget for one tick: max_migrate_mib_per_tick, or less when
 * the measured rate copies less in BALANCE_MIGRATE_TICK_SHARE of the
 * interval; BALANCE_MIGRATE_UNMEASURED_MIB at most before any rate. */
double balance_migrate_budget_mib(const struct balance_params *p, const struct balance_state *state);

/* Seed 004's rule as published, for comparison: place a new VM on a node
 * drawn from its id (the seed draws at random), and when the nodes with the
 * highest and lowest nr_running meet the trigger, move the first VM listed
 * on the busiest node to the idlest, CPUs and all its memory at once
 * (cpuset with memory_migrate). No state, one move per tick. Non-movable
 * VMs are skipped (the seed knew none). -EINVAL as balance_plan(). */
int balance_seed_rule_plan(const struct balance_params *p, const struct balance_snapshot *snap,
                           struct balance_plan *ret);

/* The trigger on one pair of nodes, exposed for vmtunectl and the tests.
 * load_low == 0 counts as an infinite ratio when load_high > 0. */
bool balance_trigger(const struct balance_params *p, double nr_high, unsigned cpus_high,
                     double nr_low, unsigned cpus_low);
