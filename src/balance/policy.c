/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer's tick: validate, reconcile the per-VM state with what the
 * snapshot shows, then probation verdicts, placement, rebalancing and
 * memory locality, in that order (see balance_plan()). Shared helpers for
 * balance_place.c and balance_rebalance.c live here too. */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

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
                .move_cost_mib = BALANCE_DEFAULT_MOVE_COST_MIB,
                .local_min_permille = BALANCE_DEFAULT_LOCAL_MIN_PERMILLE,
                .min_load_moved = BALANCE_DEFAULT_MIN_LOAD_MOVED,
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

bool balance_trigger(const struct balance_params *p, double nr_high, unsigned cpus_high,
                     double nr_low, unsigned cpus_low)
{
        double load_high = nr_high / cpus_high, load_low = nr_low / cpus_low;

        if (nr_high - nr_low < p->min_nr_running_diff)
                return false;
        if (load_high <= p->min_load_high)
                return false;
        /* An idle node has an infinite ratio: load_high > 0 holds here. */
        return load_low <= 0 || load_high / load_low > p->min_load_ratio;
}

int balance_validate(const struct balance_params *p, const struct balance_snapshot *snap)
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

uint64_t vm_resident_in(const struct balance_domain *d, uint64_t mask)
{
        uint64_t sum = 0;

        for (; mask; mask &= mask - 1)
                sum += d->mem_mib[mask_first(mask)];
        return sum;
}

uint64_t vm_resident(const struct balance_domain *d)
{
        return vm_resident_in(d, UINT64_MAX);
}

/* What the VM will occupy where it lives: its configured size, or what it
 * already has if it is bigger (ballooned up, or size unknown). */
uint64_t vm_need_mib(const struct balance_domain *d)
{
        uint64_t resident = vm_resident(d);

        return d->mem_size_mib > resident ? d->mem_size_mib : resident;
}

unsigned balance_distance(const struct balance_work *w, unsigned a, unsigned b)
{
        unsigned dist = w->node[a]->distance[b];

        if (dist)
                return dist;
        return a == b ? 10 : 20;
}

unsigned mask_cpus(const struct balance_work *w, uint64_t mask)
{
        unsigned cpus = 0;

        mask &= w->present;
        for (; mask; mask &= mask - 1)
                cpus += w->node[mask_first(mask)]->cpus;
        return cpus;
}

/* A VM's load runs on its nodes in proportion to their CPUs (the kernel
 * balances within a cpuset). */
void work_shift_load(struct balance_work *w, double load, uint64_t from, uint64_t to)
{
        unsigned cpus_from = mask_cpus(w, from), cpus_to = mask_cpus(w, to);

        for_each_node(w, id) {
                if (cpus_from && (from & BALANCE_NODE_BIT(id)))
                        w->nr[id] -= load * w->node[id]->cpus / cpus_from;
                if (cpus_to && (to & BALANCE_NODE_BIT(id)))
                        w->nr[id] += load * w->node[id]->cpus / cpus_to;
        }
}

/* Promise (sign +1) or release (-1) the memory a VM homed on mask will
 * still take there: its need less what it already has there. */
void work_reserve(struct balance_work *w, const struct balance_domain *d, uint64_t mask, double sign)
{
        uint64_t need = vm_need_mib(d), have = vm_resident_in(d, mask);
        unsigned cpus = mask_cpus(w, mask);

        if (need <= have || !cpus)
                return;
        for_each_node(w, id)
                if (mask & BALANCE_NODE_BIT(id))
                        w->room[id] -= sign * (double) (need - have) * w->node[id]->cpus / cpus;
}

double work_room(const struct balance_work *w, uint64_t mask)
{
        double room = 0;

        for_each_node(w, id)
                if (mask & BALANCE_NODE_BIT(id))
                        room += w->room[id];
        return room;
}

/* Rule 6: its memory fits where it is not yet promised away, counting what
 * it already has there. */
bool work_fits(const struct balance_work *w, const struct balance_domain *d, uint64_t mask)
{
        uint64_t need = vm_need_mib(d), have = vm_resident_in(d, mask);

        return need <= have || (double) (need - have) <= work_room(w, mask);
}

/* A decision moving n VMs' CPUs fits the move budget. A swap or a swap's
 * revert is one decision: with max_moves_per_tick = 1 it may still be the
 * tick's only one. */
bool work_may_move(const struct balance_work *w, long n)
{
        if (w->moves_left >= n)
                return true;
        return w->moves_left > 0 && w->cpu_moves == 0;
}

const char *nodes_str(uint64_t mask, char *buf, size_t size)
{
        size_t len = 0;

        buf[0] = 0;
        for (; mask && len < size; mask &= mask - 1) {
                int r = snprintf(buf + len, size - len, "%snode%u", len ? "+" : "", mask_first(mask));
                if (r < 0)
                        break;
                len += (size_t) r;
        }
        if (!buf[0])
                snprintf(buf, size, "no node");
        return buf;
}

double mib_to_gib(double mib)
{
        return mib / 1024.0;
}

struct balance_move *plan_add(struct balance_work *w, enum balance_move_kind kind, size_t i,
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

void plan_note(struct balance_work *w, size_t i, const char *fmt, ...)
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

void balance_work_init(struct balance_work *w, const struct balance_params *p,
                       const struct balance_snapshot *snap, struct balance_state *state,
                       struct balance_plan *plan)
{
        *w = (struct balance_work) {
                .p = p, .snap = snap, .state = state, .plan = plan,
                .moves_left = p->max_moves_per_tick > 0 ? p->max_moves_per_tick : 0,
                .mib_left = p->max_migrate_mib_per_tick > 0 ? (double) p->max_migrate_mib_per_tick : 0,
        };
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

static void vm_reset(struct balance_vm *vm, unsigned id)
{
        struct balance_vm old = *vm;

        *vm = (struct balance_vm) { .id = id };
        if (old.id == id) {
                vm->moves = old.moves;
                vm->reverts = old.reverts;
                vm->has_load_avg = old.has_load_avg;
                vm->load_avg = old.load_avg;
        }
}

/* A VM found with its CPUs on mask is taken as placed there, free to move
 * (its cooldown long over: nobody knows when it last moved). */
static void adopt(struct balance_work *w, struct balance_vm *vm, uint64_t mask)
{
        vm->phase = BALANCE_VM_SETTLED;
        vm->home = mask;
        vm->ticks_since_move = w->p->cooldown_ticks;
}

/* Bring one VM's state in line with the snapshot: adopt VMs found placed,
 * and follow CPU moves made by someone else (or a move that failed). */
static void reconcile(struct balance_work *w, size_t i)
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
                        plan_note(w, i, "%s: CPUs on %s, not on %s where vmtuned put them: following",
                                  d->name, nodes_str(mask, to, sizeof(to)),
                                  nodes_str(vm->home, from, sizeof(from)));
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

static double ewma(double avg, double sample)
{
        return avg + BALANCE_LOAD_ALPHA * (sample - avg);
}

/* The work copy runs on smoothed loads: see BALANCE_LOAD_ALPHA. */
static void smooth(struct balance_work *w)
{
        struct balance_state *state = w->state;

        for_each_node(w, id)
                if (state->nr_avg_valid & BALANCE_NODE_BIT(id))
                        w->nr[id] = ewma(state->nr_avg[id], w->nr[id]);
        for (size_t i = 0; i < w->snap->n_domains; i++) {
                struct balance_vm *vm = &state->vms[i];

                vm->load_avg = vm->has_load_avg ? ewma(vm->load_avg, w->snap->domains[i].load)
                                                : w->snap->domains[i].load;
                vm->has_load_avg = true;
        }
}

/* Rule 5: memory follows the CPUs. A settled VM with most of its memory off
 * its home nodes, or one whose memory is already following a move, gets
 * it moved, the busiest VM first, within max_migrate_mib_per_tick. */
static long pick_memory_vm(struct balance_work *w)
{
        const struct balance_snapshot *snap = w->snap;
        double best_score = -1;
        long best = -1;

        for (size_t i = 0; i < snap->n_domains; i++) {
                const struct balance_domain *d = &snap->domains[i];
                struct balance_vm *vm = &w->state->vms[i];
                uint64_t total, local;
                double score;

                if (!d->movable || vm->phase != BALANCE_VM_SETTLED || !vm->home)
                        continue;
                if (vm->memory_tick == w->state->tick)
                        continue;
                total = vm_resident(d);
                local = vm_resident_in(d, vm->home);
                if (total == 0 || local * 1000 >= total * BALANCE_LOCAL_DONE_PERMILLE) {
                        vm->migrating = false;
                        continue;
                }
                if (!vm->migrating && (long) (local * 1000 / total) >= w->p->local_min_permille)
                        continue;
                score = (vm->load_avg + 0.01) * (double) (total - local);
                if (score > best_score) {
                        best_score = score;
                        best = (long) i;
                }
        }
        return best;
}

static void memory_reason(struct balance_work *w, size_t i, struct balance_move *m, uint64_t remote)
{
        const struct balance_domain *d = &w->snap->domains[i];
        struct balance_vm *vm = &w->state->vms[i];
        char from[128], why[160];

        if (vm->probation_passed)
                snprintf(why, sizeof(why), "probation over: without it %s would have nr_running %.1f vs %.1f",
                         nodes_str(vm->prev, from, sizeof(from)), vm->sum_src_nr, vm->sum_dst_nr);
        else
                snprintf(why, sizeof(why), "%s", vm->migrating ? "following its CPUs" : "most of it elsewhere");
        vm->probation_passed = false;
        /* MiB: a chunk is often below 0.1 GiB, and the limit is in MiB */
        snprintf(m->reason, sizeof(m->reason),
                 "%s; %" PRIu64 " of %" PRIu64 " MiB remote, moving %" PRIu64 " MiB now (limit %ld MiB/tick)", why,
                 remote, vm_resident(d), m->migrate_mib, w->p->max_migrate_mib_per_tick);
}

void plan_memory(struct balance_work *w)
{
        long i;

        while (w->mib_left >= 1 && (i = pick_memory_vm(w)) >= 0) {
                const struct balance_domain *d = &w->snap->domains[i];
                struct balance_vm *vm = &w->state->vms[i];
                uint64_t remote = vm_resident(d) - vm_resident_in(d, vm->home), from = 0;
                double free_mib = 0, chunk;
                struct balance_move *m;
                char to[128];

                for_each_node(w, id) {
                        if (vm->home & BALANCE_NODE_BIT(id))
                                free_mib += (double) w->node[id]->mem_free_mib - w->sched_in[id];
                        else if (d->mem_mib[id])
                                from |= BALANCE_NODE_BIT(id);
                }
                chunk = fmin(fmin((double) remote, w->mib_left), floor(free_mib));
                vm->memory_tick = w->state->tick;
                if (chunk < 1) {
                        plan_note(w, (size_t) i, "%s: %.1f GiB of memory remote, but %s has %.1f GiB free",
                                  d->name, mib_to_gib((double) remote), nodes_str(vm->home, to, sizeof(to)),
                                  mib_to_gib(fmax(free_mib, 0)));
                        vm->migrating = false;
                        continue;
                }
                m = plan_add(w, BALANCE_MOVE_MEMORY, (size_t) i, from, vm->home, (uint64_t) chunk);
                if (!m)
                        return;
                vm->migrating = true;
                memory_reason(w, (size_t) i, m, remote);
                w->mib_left -= chunk;
                for_each_node(w, id)
                        if (vm->home & BALANCE_NODE_BIT(id))
                                w->sched_in[id] += chunk * w->node[id]->cpus / mask_cpus(w, vm->home);
        }
}

int balance_plan(const struct balance_params *p, const struct balance_snapshot *snap,
                 struct balance_state *state, struct balance_plan *ret)
{
        struct balance_work w;
        int r;

        r = balance_validate(p, snap);
        if (r < 0)
                return r;
        if (!state || !ret || state->n_vms != snap->n_domains || (snap->n_domains && !state->vms))
                return -EINVAL;

        state->tick++;
        balance_work_init(&w, p, snap, state, ret);
        for (size_t i = 0; i < snap->n_domains; i++)
                reconcile(&w, i);
        smooth(&w);
        for (size_t i = 0; i < snap->n_domains; i++)
                if (state->vms[i].phase != BALANCE_VM_NEW)
                        work_reserve(&w, &snap->domains[i], state->vms[i].home, +1);

        if (snap->n_nodes == 1) {
                snprintf(ret->reason, sizeof(ret->reason), "one NUMA node: nothing to balance");
                return 0;
        }
        /* Verdicts first: a revert undoes load the rebalancer would
         * otherwise count. Placement next, so new VMs are counted where
         * they will run; memory last, so it follows this tick's moves when
         * probation_ticks is 0. */
        plan_probation(&w);
        plan_placement(&w);
        plan_rebalance(&w);
        plan_memory(&w);
        for_each_node(&w, id)
                state->nr_avg[id] = w.nr[id];
        state->nr_avg_valid = w.present;
        return 0;
}
