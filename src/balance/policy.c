/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer's decision, pure: the orchestrator of the policy. The tick
 * that samples, moves and logs is balancer.c; this file only decides.
 * balance_plan() checks the snapshot, reconciles the per-VM state with it,
 * smooths the loads, then runs the stages in order: probation verdicts
 * (policy-rebalance.c), placement (policy-place.c), rebalancing
 * (policy-rebalance.c), memory (policy-memory.c). balance_record_result()
 * takes in what a carried-out move showed that no snapshot can. The stages
 * share the toolbox in policy-plan.c and never call this file. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy-internal.h"
#include "config/conf.h"

void balance_params_from_conf(const struct balancer_conf *conf, struct balance_params *ret)
{
        *ret = (struct balance_params) {
                .min_nr_running_diff = (double) conf->min_nr_running_diff,
                .min_load_ratio = conf->min_load_ratio,
                .min_load_high = conf->min_load_high,
                .probation_ticks = conf->probation_ticks,
                .cooldown_ticks = conf->cooldown_ticks,
                .max_moves_per_tick = conf->max_moves_per_tick,
                .max_migrate_mib_per_tick = conf->max_migrate_mb_per_tick,
                .interval_sec = (double) conf->interval_sec,
                .idle_floor = conf->idle_floor,
                .move_cost_mib = BALANCE_DEFAULT_MOVE_COST_MIB,
                .local_min_permille = BALANCE_DEFAULT_LOCAL_MIN_PERMILLE,
        };
}

const char *balance_move_kind_to_string(enum balance_move_kind kind)
{
        switch (kind) {
        case BALANCE_MOVE_CPU:    return "cpu";
        case BALANCE_MOVE_MEMORY: return "memory";
        case BALANCE_MOVE_REVERT: return "revert";
        case BALANCE_MOVE_PLACE:  return "place";
        case BALANCE_MOVE_SWAP:   return "swap";
        }
        return "unknown";
}

static void vm_reset(struct balance_vm *vm, unsigned id)
{
        struct balance_vm old = *vm;

        *vm = (struct balance_vm) { .id = id };
        if (old.id == id) {
                vm->moves = old.moves;
                vm->reverts = old.reverts;
                vm->has_load_avg = old.has_load_avg;
                vm->load_avg = old.load_avg;
                vm->load_slow = old.load_slow;
                vm->load_samples = old.load_samples;
        }
}

/* A VM found with its CPUs on mask is taken as placed there, free to move
 * (its cooldown long over: nobody knows when it last moved). */
static void adopt(struct bp_work *w, struct balance_vm *vm, uint64_t mask)
{
        vm->phase = BALANCE_VM_SETTLED;
        vm->home = mask;
        vm->ticks_since_move = w->p->cooldown_ticks;
}

/* Bring one VM's state in line with the snapshot: adopt VMs found placed,
 * and follow CPU moves made by someone else (or a move that failed). */
static void reconcile(struct bp_work *w, size_t i)
{
        const struct balance_domain *d = &w->snap->domains[i];
        struct balance_vm *vm = &w->state->vms[i];
        uint64_t mask = d->cpu_nodes & w->present;
        bool unplaced = mask == 0 || mask == w->present;
        char from[64], to[64];

        if (vm->id != d->id)
                vm_reset(vm, d->id);
        if (vm->phase != BALANCE_VM_NEW && mask != vm->home) {
                if (d->movable)
                        bp_plan_note(w, i, "%s: CPUs on %s, not on %s where vmtuned put them: following",
                                  d->name, bp_nodes_str(mask, to, sizeof(to)),
                                  bp_nodes_str(vm->home, from, sizeof(from)));
                vm_reset(vm, d->id);
        }
        if (vm->phase == BALANCE_VM_NEW) {
                if (!unplaced)
                        adopt(w, vm, mask);
                return;
        }
        if (vm->ticks_since_move < LONG_MAX)
                vm->ticks_since_move++;
}

static double ewma(double alpha, double avg, double sample)
{
        return avg + alpha * (sample - avg);
}

/* The work copy runs on smoothed loads: see BALANCE_LOAD_ALPHA. Its slow
 * view is the same nodes with every VM at its slow average where it runs
 * now (BALANCE_LOAD_SLOW_ALPHA); host load outside the VMs counts as it
 * is now in both. */
static void smooth(struct bp_work *w)
{
        struct balance_state *state = w->state;

        memcpy(w->last, state->nr_avg, sizeof(w->last));
        bp_for_each_node(w, id)
                if (state->nr_avg_valid & BALANCE_NODE_BIT(id))
                        w->nr[id] = ewma(BALANCE_LOAD_ALPHA, state->nr_avg[id], w->nr[id]);
        memcpy(w->slow, w->nr, sizeof(w->slow));
        for (size_t i = 0; i < w->snap->n_domains; i++) {
                const struct balance_domain *d = &w->snap->domains[i];
                struct balance_vm *vm = &state->vms[i];
                uint64_t on = d->cpu_nodes & w->present;

                if (vm->has_load_avg) {
                        vm->load_avg = ewma(BALANCE_LOAD_ALPHA, vm->load_avg, d->load);
                        vm->load_slow = ewma(fmax(BALANCE_LOAD_SLOW_ALPHA, 1.0 / (double) (vm->load_samples + 1)),
                                             vm->load_slow, d->load);
                } else {
                        vm->load_avg = vm->load_slow = d->load;
                }
                vm->load_samples++;
                vm->has_load_avg = true;
                bp_shift(w, w->slow, vm->load_slow - vm->load_avg, 0, on ? on : w->present);
        }
}

/* The idle floor for this tick: the configured one, or BALANCE_IDLE_FLOOR_SHARE
 * of the mean load of the VMs that could move if that is lower. */
static void idle_floor(struct bp_work *w)
{
        double sum = 0;
        size_t n = 0;

        for (size_t i = 0; i < w->snap->n_domains; i++)
                if (w->snap->domains[i].movable && w->state->vms[i].phase != BALANCE_VM_NEW) {
                        sum += w->state->vms[i].load_avg;
                        n++;
                }
        w->idle_floor = w->p->idle_floor;
        if (n && BALANCE_IDLE_FLOOR_SHARE * sum / (double) n < w->idle_floor)
                w->idle_floor = BALANCE_IDLE_FLOOR_SHARE * sum / (double) n;
}

int balance_plan(const struct balance_params *p, const struct balance_snapshot *snap,
                 struct balance_state *state, struct balance_plan *ret)
{
        struct bp_work w;
        int r;

        r = bp_validate(p, snap);
        if (r < 0)
                return r;
        if (!state || !ret || state->n_vms != snap->n_domains || (snap->n_domains && !state->vms))
                return -EINVAL;

        state->tick++;
        bp_work_init(&w, p, snap, state, ret);
        for (size_t i = 0; i < snap->n_domains; i++)
                reconcile(&w, i);
        smooth(&w);
        idle_floor(&w);
        bp_share_link(&w);
        for (size_t i = 0; i < snap->n_domains; i++)
                if (state->vms[i].phase != BALANCE_VM_NEW)
                        bp_work_reserve(&w, &snap->domains[i], state->vms[i].home, +1);

        if (snap->n_nodes == 1) {
                snprintf(ret->reason, sizeof(ret->reason), "one NUMA node: nothing to balance");
                return 0;
        }
        /* Verdicts first: a revert undoes load the rebalancer would
         * otherwise count. Placement next, so new VMs are counted where
         * they will run; memory last, so it follows this tick's moves when
         * probation_ticks is 0. */
        bp_plan_probation(&w);
        bp_plan_placement(&w);
        bp_plan_rebalance(&w);
        bp_plan_memory(&w);
        bp_for_each_node(&w, id)
                state->nr_avg[id] = w.nr[id];
        state->nr_avg_valid = w.present;
        return 0;
}

double balance_migrate_budget_mib(const struct balance_params *p, const struct balance_state *state)
{
        double budget = p->max_migrate_mib_per_tick > 0 ? (double) p->max_migrate_mib_per_tick : 0;

        if (!state || !(state->migrate_mib_per_sec > 0) || !(p->interval_sec > 0))
                return fmin(budget, BALANCE_MIGRATE_UNMEASURED_MIB);
        return fmin(budget, floor(state->migrate_mib_per_sec * p->interval_sec * BALANCE_MIGRATE_TICK_SHARE));
}

/* A move that was to migrate memory and migrated none will migrate none
 * next tick either. What is left elsewhere is either memory the kernel
 * does not migrate for this process (remote_mib > 0: pinned pages) or
 * memory its cgroup counts that the QEMU process does not map privately
 * (remote_mib == 0: the sampler reads memory.numa_stat, the mover
 * numa_maps; 1-2 % of a VM in the lab). Both were found in the 4-node lab,
 * where the policy then asked again every tick. So stop following it
 * (vm->migrating); rule 5 takes it up again only if most of it is
 * elsewhere. A move that migrated BALANCE_MIGRATE_RATE_MIN_MIB or more
 * teaches the mover's rate (rule 5's budget). Failed moves and dry runs
 * teach nothing: the next snapshot shows where things are. */
bool balance_record_result(struct balance_state *state, const struct balance_move *m,
                           const struct balance_result *res, char *ret_reason, size_t size)
{
        struct balance_vm *vm;

        if (res->error < 0 || res->dry_run)
                return false;
        if (res->migrated_mib >= BALANCE_MIGRATE_RATE_MIN_MIB && res->elapsed_usec > 0) {
                double rate = (double) res->migrated_mib / ((double) res->elapsed_usec / 1e6);

                state->migrate_mib_per_sec = state->migrate_mib_per_sec > 0
                        ? state->migrate_mib_per_sec + BALANCE_MIGRATE_RATE_ALPHA * (rate - state->migrate_mib_per_sec)
                        : rate;
        }
        if (res->migrated_mib > 0)
                return false;
        if (m->migrate_mib == 0 && m->kind != BALANCE_MOVE_MEMORY)
                return false;
        if (m->domain >= state->n_vms || state->vms[m->domain].id != m->domain_id)
                return false;
        vm = &state->vms[m->domain];
        if (!vm->migrating)
                return false;
        vm->migrating = false;
        if (res->remote_mib > 0)
                snprintf(ret_reason, size, "%" PRIu64 " MiB of its memory stay elsewhere and did not move "
                         "(unmovable pages); not trying again unless most of its memory is elsewhere",
                         res->remote_mib);
        else
                snprintf(ret_reason, size, "none of its QEMU's own memory is elsewhere; the rest its memory "
                         "cgroup counts there is not the process's to move; not trying again unless most of "
                         "its memory is elsewhere");
        return true;
}
