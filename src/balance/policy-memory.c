/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The memory stage of the pure policy (rule 5 of include/balance/policy.h),
 * the last of balance_plan()'s stages: memory follows the CPUs, in shares
 * of max_migrate_mib_per_tick over all VMs together, so that it
 * follows this plan's CPU moves when probation_ticks is 0 and a big VM's
 * memory moves over several ticks. balance_record_result() (policy.c)
 * stops the chase for memory that does not move. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "policy-internal.h"

/* What a VM loses per remote MiB while its memory waits, the order of the
 * queue: its load times the mean extra distance of its remote memory
 * (distance - 10, 10 being local) over the MiB still to move. Serving the
 * largest first (Smith's rule) brings the most work home for each MiB the
 * mover copies: a small busy VM before a big one, a VM whose pages sit at
 * distance 32 before one whose pages sit at 12. */
static double urgency(const struct bp_work *w, const struct balance_domain *d, double load, uint64_t home,
                      double remote)
{
        unsigned first = bp_mask_first(home);
        double extra = 0;

        if (remote < 1)
                return 0;
        bp_for_each_node(w, id)
                if (!(home & BALANCE_NODE_BIT(id)) && d->mem_mib[id])
                        extra += (double) d->mem_mib[id] * ((double) bp_distance(w, first, id) - 10);
        return fmax(load, 0.01) * extra / (remote * remote);
}

/* Rule 5: memory follows the CPUs. A settled VM with most of its memory off
 * its home nodes, or one whose memory is already following a move, is
 * waiting. Returns the most urgent of those not served yet this tick
 * (urgency()), with their count in *n_waiting and the one waiting
 * longest in *oldest. */
static long pick_memory_vm(struct bp_work *w, size_t *n_waiting, long *oldest)
{
        const struct balance_snapshot *snap = w->snap;
        double best_urgency = 0;
        long best = -1;

        *n_waiting = 0;
        *oldest = -1;
        for (size_t i = 0; i < snap->n_domains; i++) {
                const struct balance_domain *d = &snap->domains[i];
                struct balance_vm *vm = &w->state->vms[i];
                uint64_t total = 0, local = 0, remote;
                bool waiting = false;

                if (d->movable && vm->phase == BALANCE_VM_SETTLED && vm->home) {
                        if (vm->memory_tick == w->state->tick)
                                continue;  /* served this tick: still waiting */
                        /* present nodes only: this runs once per VM served */
                        total = bp_vm_resident_in(d, w->present);
                        local = bp_vm_resident_in(d, vm->home);
                        if (total == 0 || local * 1000 >= total * BALANCE_LOCAL_DONE_PERMILLE)
                                vm->migrating = false;
                        else
                                waiting = vm->migrating ||
                                          (long) (local * 1000 / total) < w->p->local_min_permille;
                }
                if (!waiting) {
                        vm->waiting_since = 0;
                        continue;
                }
                if (!vm->waiting_since)
                        vm->waiting_since = w->state->tick;
                remote = total - local;
                (*n_waiting)++;
                if (*oldest < 0 || vm->waiting_since < w->state->vms[*oldest].waiting_since)
                        *oldest = (long) i;
                double u = urgency(w, d, vm->load_avg, vm->home, (double) remote);

                if (best < 0 || u > best_urgency) {
                        best_urgency = u;
                        best = (long) i;
                }
        }
        return best;
}

static void memory_reason(struct bp_work *w, size_t i, struct balance_move *m, uint64_t remote)
{
        const struct balance_domain *d = &w->snap->domains[i];
        struct balance_vm *vm = &w->state->vms[i];
        char from[128], why[160];

        if (vm->probation_passed)
                snprintf(why, sizeof(why), "probation over: without it %s would have nr_running %.1f vs %.1f",
                         bp_nodes_str(vm->prev, from, sizeof(from)), vm->sum_src_nr, vm->sum_dst_nr);
        else
                snprintf(why, sizeof(why), "%s", vm->migrating ? "following its CPUs" : "most of it elsewhere");
        vm->probation_passed = false;
        /* MiB: a chunk is often below 0.1 GiB, and the limit is in MiB */
        double budget = w->mib_budget;
        char limit[96];

        if (budget < (double) w->p->max_migrate_mib_per_tick && w->state->migrate_mib_per_sec > 0)
                snprintf(limit, sizeof(limit), "limit %.0f MiB this tick: %.0f MiB/s measured", budget,
                         w->state->migrate_mib_per_sec);
        else if (budget < (double) w->p->max_migrate_mib_per_tick)
                snprintf(limit, sizeof(limit), "limit %.0f MiB until a migration is timed", budget);
        else
                snprintf(limit, sizeof(limit), "limit %ld MiB/tick", w->p->max_migrate_mib_per_tick);
        /* a long node list may cut the end: the log line still says it all but the limit */
        if (snprintf(m->reason, sizeof(m->reason), "%s; %" PRIu64 " of %" PRIu64 " MiB remote, moving %" PRIu64
                     " MiB now (%s)", why, remote, bp_vm_resident(d), m->migrate_mib, limit) >= (int) sizeof(m->reason))
                m->reason[sizeof(m->reason) - 2] = '.';
}

/* The tick's budget: the VM waiting longest gets what it still needs or a
 * 1/BALANCE_MEMORY_SHARES share, whichever is less, so that none waits for
 * ever; then the most urgent (urgency()) get what they need, one after the
 * other, until the budget is spent. So a small VM never waits behind a big
 * one (1 GiB VMs waited 48-67 ticks behind a 64 GiB one when the busiest
 * VM went first), a big one still moves while small ones do, and VMs
 * finish one after another instead of all running remote while equal
 * shares trickle in: 3 to 29 MB/s more than equal shares in make sim, at
 * both of its migration paces, fairness within 0.02 either way. */
void bp_plan_memory(struct bp_work *w)
{
        size_t n_waiting, served = 0;
        long i, oldest;

        while (w->mib_left >= 1 && (i = pick_memory_vm(w, &n_waiting, &oldest)) >= 0) {
                size_t shares = served == 0 ? BALANCE_MEMORY_SHARES : 1;

                if (shares > n_waiting)
                        shares = n_waiting;
                if (served++ == 0)
                        i = oldest;
                const struct balance_domain *d = &w->snap->domains[i];
                struct balance_vm *vm = &w->state->vms[i];
                uint64_t remote = bp_vm_resident(d) - bp_vm_resident_in(d, vm->home), from = 0;
                double free_mib = 0, chunk;
                struct balance_move *m;
                char to[128];

                bp_for_each_node(w, id) {
                        if (vm->home & BALANCE_NODE_BIT(id))
                                free_mib += (double) w->node[id]->mem_free_mib - w->sched_in[id];
                        else if (d->mem_mib[id])
                                from |= BALANCE_NODE_BIT(id);
                }
                chunk = fmin(fmin((double) remote, floor(w->mib_left / (double) shares)), floor(free_mib));
                vm->memory_tick = w->state->tick;
                if (chunk < 1) {
                        bp_plan_note(w, (size_t) i, "%s: %.1f GiB of memory remote, but %s has %.1f GiB free",
                                  d->name, bp_mib_to_gib((double) remote), bp_nodes_str(vm->home, to, sizeof(to)),
                                  bp_mib_to_gib(fmax(free_mib, 0)));
                        vm->migrating = false;
                        continue;
                }
                m = bp_plan_add(w, BALANCE_MOVE_MEMORY, (size_t) i, from, vm->home, (uint64_t) chunk);
                if (!m)
                        return;
                vm->migrating = true;
                memory_reason(w, (size_t) i, m, remote);
                w->mib_left -= chunk;
                bp_for_each_node(w, id)
                        if (vm->home & BALANCE_NODE_BIT(id))
                                w->sched_in[id] += chunk * w->node[id]->cpus / bp_mask_cpus(w, vm->home);
        }
}
