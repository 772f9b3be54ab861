/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Rebalancing and probation, a stage of the pure policy (rules 1, 3, 4, 7
 * and 8 of include/balance/policy.h; 6 and 9 in check_dest() and
 * check_vm()): when the busiest node and a less busy one meet seed 004's
 * trigger, move the VM that reduces the imbalance most per MiB it will take
 * to migrate, never one that overshoots; if no single move helps, swap
 * two. CPUs move first; after probation_ticks the verdict: memory follows
 * if the imbalance is still there without the VM, else the CPUs go back.
 * One file because a verdict undoes exactly what a move did (start_move()
 * and revert() are each other's inverse). */
#include <math.h>
#include <stdio.h>

#include "policy-internal.h"

enum reject {
        OK,
        R_ELSEWHERE,     /* not homed on the source node alone: not a candidate */
        R_PINNED,
        R_UNPLACED,
        R_PROBATION,
        R_MIGRATING,
        R_COOLDOWN,
        R_IDLE,
        R_CPUS,
        R_MEMORY,
        R_OVERSHOOT,
        R_RETURN,
        _R_MAX,
};

static const char *const reject_str[_R_MAX] = {
        [R_PINNED] = "not movable",
        [R_UNPLACED] = "not placed",
        [R_PROBATION] = "in probation",
        [R_MIGRATING] = "memory still moving",
        [R_COOLDOWN] = "in cooldown",
        [R_IDLE] = "too idle to help",
        [R_CPUS] = "too many vCPUs",
        [R_MEMORY] = "memory would not fit",
        [R_OVERSHOOT] = "would overshoot",
        [R_RETURN] = "would go back where it came from",
};

struct candidate {
        long a, b;               /* domain moving s -> d; b moving d -> s for a swap, else -1 */
        unsigned s, d;
        double net;              /* load shifted s -> d */
        double mib;              /* memory that will have to follow */
        double score;            /* imbalance reduced per MiB, BALANCE_SHARE_BONUS applied */
        double plain;            /* the same without it */
        int span;                /* nodes its share groups span fewer after it (both halves): > 0 less KSM duplication */
};

/* Is domain i, homed on node `on` alone, free to move at all? */
static enum reject check_vm(const struct bp_work *w, size_t i, unsigned on)
{
        const struct balance_domain *d = &w->snap->domains[i];
        const struct balance_vm *vm = &w->state->vms[i];

        if (vm->phase == BALANCE_VM_NEW)
                return (d->cpu_nodes & BALANCE_NODE_BIT(on)) ? R_UNPLACED : R_ELSEWHERE;
        if (vm->home != BALANCE_NODE_BIT(on))
                return R_ELSEWHERE;
        if (!d->movable)
                return R_PINNED;           /* rule 9 */
        if (vm->phase == BALANCE_VM_PROBATION)
                return R_PROBATION;
        /* Rule 8: a VM that moved stays. */
        if (vm->planned_tick == w->state->tick || vm->ticks_since_move < w->p->cooldown_ticks)
                return R_COOLDOWN;
        if (vm->migrating)
                return R_MIGRATING;
        /* Its last interval counts too: a VM just gone idle (a night
         * begun) still has a smoothed load, and moving it fixes nothing. */
        if (bp_dom_load(w, d) < w->idle_floor || d->load < w->idle_floor)
                return R_IDLE;
        return OK;
}

/* total: the domain's resident MiB (bp_vm_resident_in(dom, w->present)),
 * worked out once per VM by the caller: this runs for every VM and node. */
static enum reject check_dest(const struct bp_work *w, size_t i, unsigned d, uint64_t total)
{
        const struct balance_domain *dom = &w->snap->domains[i];
        uint64_t need = dom->mem_size_mib > total ? dom->mem_size_mib : total, have = dom->mem_mib[d];

        if (dom->vcpus > w->node[d]->cpus)
                return R_CPUS;
        if (need > have && (double) (need - have) > w->room[d])   /* bp_work_fits() on one node */
                return R_MEMORY;
        return OK;
}

/* Rule 8 against ping-pong: a VM does not go back to the nodes its last
 * move took it from until BALANCE_RETURN_COOLDOWNS cooldowns have passed.
 * As VMs came and went (churn) loads shifted back and forth under steady
 * VMs, and one was moved node2 -> node3 -> node2 -> node3 within 44 ticks,
 * each move right on its own tick. A probation revert is not a move. */
static bool goes_back(const struct bp_work *w, size_t i, unsigned d)
{
        const struct balance_vm *vm = &w->state->vms[i];

        return vm->prev == BALANCE_NODE_BIT(d) && vm->prev != vm->home &&
               vm->ticks_since_move < BALANCE_RETURN_COOLDOWNS * w->p->cooldown_ticks;
}

/* Reduction of sum(cpus * (load - mean)^2) when `net` runnable threads go
 * from s to d, on node nr_running nr[]; the mean drops out. */
static double gain_on(const struct bp_work *w, const double nr[], unsigned s, unsigned d, double net)
{
        double cs = w->node[s]->cpus, cd = w->node[d]->cpus;

        return 2 * net * (nr[s] / cs - nr[d] / cd) - net * net * (1 / cs + 1 / cd);
}

/* Rule 3's measure: the gain now, net smoothed load, plus the gain over
 * time, slow_net with every VM at its slow average (BALANCE_LOAD_SLOW_ALPHA):
 * of two moves that help as much now, the one that also helps over time
 * wins, and one that helps now but undoes the balance over time loses to
 * a smaller move that does not. */
static double gain(const struct bp_work *w, unsigned s, unsigned d, double net, double slow_net)
{
        return gain_on(w, w->nr, s, d, net) + gain_on(w, w->slow, s, d, slow_net);
}

/* Rule 3 with hysteresis: after the move the target may lead the source
 * by at most BALANCE_MAX_REVERSE of what the source led by before (in
 * load, nr_running / cpus), and never so far that the pair meets the
 * trigger the other way. A move that hands the lead on whole would only
 * invite the move back; one that halves it leaves both nodes nearer the
 * mean, so VMs of equal size can still even out two nodes whose difference
 * is one VM plus some noise. */
static bool overshoots(const struct bp_work *w, unsigned s, unsigned d, double net)
{
        double nr_s = w->nr[s] - net, nr_d = w->nr[d] + net;
        unsigned cs = w->node[s]->cpus, cd = w->node[d]->cpus;
        double before = w->nr[s] / cs - w->nr[d] / cd, after = nr_d / cd - nr_s / cs;

        if (after <= 1e-9)
                return false;
        return after > BALANCE_MAX_REVERSE * before + 1e-9 || balance_trigger(w->p, nr_d, cd, nr_s, cs);
}

static double mib_to(const struct balance_domain *dom, unsigned d, uint64_t total)
{
        return (double) (total - dom->mem_mib[d]);
}

/* What a move from s to d costs, in MiB: its memory and the fixed cost,
 * times the distance relative to local (10). Pages cross a longer link
 * more slowly, and until they have, every access to them from the new
 * node pays that distance; so of two nodes with room the nearer wins
 * unless the farther one helps that much more. */
static double move_cost(const struct bp_work *w, unsigned s, unsigned d, double mib, int n_moves)
{
        return (mib + n_moves * (double) w->p->move_cost_mib) * bp_distance(w, s, d) / 10.0;
}

/* Nodes domain i's group spans fewer after it goes from s to d, with
 * on[] its other members by node: KSM merges within a node only, so a
 * group's shared pages are held once per node it spans. Joining members
 * on d that still have members on s changes nothing; a first member on d
 * adds a copy; the last one leaving s drops one. */
static int span_delta(const unsigned on[BALANCE_MAX_NODES], unsigned s, unsigned d)
{
        return (on[s] == 0) - (on[d] == 0);
}

static int span_delta_of(const struct bp_work *w, size_t i, unsigned s, unsigned d)
{
        unsigned on[BALANCE_MAX_NODES];

        return bp_share_count(w, i, on) ? span_delta(on, s, d) : 0;
}

/* BALANCE_SHARE_BONUS (policy.h) on a candidate's plain score. */
static void score(struct candidate *c, double gain, double cost)
{
        c->plain = gain / cost;
        c->score = c->plain;
        if (c->span > 0)
                c->score = c->plain > 0 ? c->plain * BALANCE_SHARE_BONUS : c->plain / BALANCE_SHARE_BONUS;
        else if (c->span < 0)
                c->score = c->plain > 0 ? c->plain / BALANCE_SHARE_BONUS : c->plain * BALANCE_SHARE_BONUS;
}

/* best: by score; plain_best: by plain score, to say in a note when a VM
 * stayed with its group that would have moved without it. */
static void consider(struct candidate *best, struct candidate *plain_best, const struct candidate *c)
{
        if (best->a < 0 || c->score > best->score)
                *best = *c;
        if (plain_best->a < 0 || c->plain > plain_best->plain)
                *plain_best = *c;
}

/* Best single move from s to any node in targets; counts why VMs were
 * rejected for the pair (s, first_target) into rejects. */
static void best_single(const struct bp_work *w, unsigned s, uint64_t targets, unsigned first,
                        long rejects[_R_MAX], struct candidate *best, struct candidate *plain_best)
{
        for (size_t i = 0; i < w->snap->n_domains; i++) {
                const struct balance_domain *dom = &w->snap->domains[i];
                enum reject r = check_vm(w, i, s);
                unsigned on[BALANCE_MAX_NODES];
                bool grouped;
                uint64_t total;

                if (r == R_ELSEWHERE)
                        continue;
                total = bp_vm_resident_in(dom, w->present);
                /* once per VM: a group's walk for every node would cost a
                 * thousand grouped VMs on 8 nodes ~1 ms a decision */
                grouped = r == OK && bp_share_count(w, i, on);
                bp_for_each_node(w, d) {
                        enum reject rd = r;
                        struct candidate c;

                        if (!(targets & BALANCE_NODE_BIT(d)))
                                continue;
                        if (rd == OK)
                                rd = check_dest(w, i, d, total);
                        if (rd == OK && goes_back(w, i, d))
                                rd = R_RETURN;
                        if (rd == OK && overshoots(w, s, d, bp_dom_load(w, dom)))
                                rd = R_OVERSHOOT;
                        if (d == first)
                                rejects[rd]++;
                        if (rd != OK)
                                continue;
                        c = (struct candidate) { .a = (long) i, .b = -1, .s = s, .d = d, .net = bp_dom_load(w, dom),
                                                 .mib = mib_to(dom, d, total),
                                                 .span = grouped ? span_delta(on, s, d) : 0 };
                        score(&c, gain(w, s, d, c.net, w->state->vms[i].load_slow), move_cost(w, s, d, c.mib, 1));
                        consider(best, plain_best, &c);
                }
        }
}

/* Rule 7: swap a busy VM on s with a less busy one on d. Each VM's memory
 * must fit where it goes without counting what the other frees: during
 * probation neither has moved any. */
static void best_swap(const struct bp_work *w, unsigned s, unsigned d, struct candidate *best,
                      struct candidate *plain_best)
{
        const struct balance_snapshot *snap = w->snap;

        for (size_t i = 0; i < snap->n_domains; i++) {
                const struct balance_domain *a = &snap->domains[i];
                uint64_t total_a = bp_vm_resident_in(a, w->present), total_b;
                int span_a;

                if (check_vm(w, i, s) != OK || check_dest(w, i, d, total_a) != OK || goes_back(w, i, d))
                        continue;
                span_a = span_delta_of(w, i, s, d);  /* once per VM: it walks the group */
                for (size_t j = 0; j < snap->n_domains; j++) {
                        const struct balance_domain *b = &snap->domains[j];
                        struct candidate c;
                        double net = bp_dom_load(w, a) - bp_dom_load(w, b);

                        if (net < w->idle_floor || overshoots(w, s, d, net))
                                continue;
                        if (check_vm(w, j, d) != OK || goes_back(w, j, s))
                                continue;
                        total_b = bp_vm_resident_in(b, w->present);
                        if (check_dest(w, j, s, total_b) != OK)
                                continue;
                        c = (struct candidate) { .a = (long) i, .b = (long) j, .s = s, .d = d, .net = net,
                                                 .mib = mib_to(a, d, total_a) + mib_to(b, s, total_b),
                                                 .span = span_a + span_delta_of(w, j, d, s) };
                        score(&c, gain(w, s, d, net, w->state->vms[i].load_slow - w->state->vms[j].load_slow),
                              move_cost(w, s, d, c.mib, 2));
                        consider(best, plain_best, &c);
                }
        }
}

/* A steady imbalance between s and d: with slow_net of load moved back
 * from d to s, the nodes meet the whole trigger in the slow view (every VM
 * at its slow average), and the VM's slow average covers more ticks than a
 * probation watches, so that a probation can tell nothing new (seed-40:
 * without it, the last of its four moves had its memory wait a probation
 * tick, the VM at 0.471 of its demand against the seed rule's 0.472). */
static bool steady(const struct bp_work *w, const struct balance_vm *vm, unsigned s, unsigned d, double slow_net)
{
        return vm->load_samples > (uint64_t) w->p->probation_ticks &&
               balance_trigger(w->p, w->slow[s] + slow_net, w->node[s]->cpus, w->slow[d] - slow_net,
                               w->node[d]->cpus);
}

/* Rule 4's exceptions, when probation has nothing to find out and its
 * memory follows at once:
 * - a single move that leaves its source still over the trigger against
 *   its target (more moves are needed; the imbalance it was made on has
 *   lasted two ticks, persists()). Waiting probation_ticks left such VMs
 *   running remote for many ticks (seed-20 93 % local) for verdicts that
 *   kept every one of them;
 * - a single move made on a steady() imbalance. */
static bool clearly_needed(const struct bp_work *w, const struct candidate *c)
{
        if (c->b >= 0)
                return false;
        return balance_trigger(w->p, w->nr[c->s] - c->net, w->node[c->s]->cpus, w->nr[c->d] + c->net,
                               w->node[c->d]->cpus) ||
               steady(w, &w->state->vms[c->a], c->s, c->d, 0);
}

static void start_move(struct bp_work *w, size_t i, unsigned s, unsigned d, long partner, bool at_once)
{
        const struct balance_domain *dom = &w->snap->domains[i];
        struct balance_vm *vm = &w->state->vms[i];

        bp_work_reserve(w, dom, vm->home, -1);
        bp_work_shift_vm(w, i, BALANCE_NODE_BIT(s), BALANCE_NODE_BIT(d));
        vm->home = BALANCE_NODE_BIT(d);
        vm->prev = BALANCE_NODE_BIT(s);
        vm->moves++;
        vm->planned_tick = w->state->tick;
        vm->ticks_since_move = 0;
        vm->migrating = vm->probation_passed = vm->has_partner = false;
        vm->partner_id = 0;
        vm->probation_ticks = 0;
        vm->sum_src_nr = vm->sum_dst_nr = vm->sum_load = 0;
        if (w->p->probation_ticks > 0 && !at_once) {
                vm->phase = BALANCE_VM_PROBATION;
                vm->has_partner = partner >= 0;
                vm->partner_id = partner >= 0 ? w->snap->domains[partner].id : 0;
        } else {
                vm->phase = BALANCE_VM_SETTLED;
                vm->migrating = true;
        }
        bp_work_reserve(w, dom, vm->home, +1);
        w->cpu_moves++;
        w->moves_left = w->moves_left > 0 ? w->moves_left - 1 : 0;
}

/* "nr_running 7.0 vs 0.1, load ..." of nodes s and d, after "nodeS ->
 * nodeD: " when named (a move's log line names its nodes itself). */
static void pair_str(const struct bp_work *w, unsigned s, unsigned d, bool named, char *buf, size_t size)
{
        double ls = bp_node_load(w, s), ld = bp_node_load(w, d);
        char ratio[48], nodes[48] = "";

        if (named)
                snprintf(nodes, sizeof(nodes), "node%u -> node%u: ", s, d);
        /* Against an idle node there is no ratio to print: "inf" read as
         * a host out of balance when both nodes were idle. */
        if (ld > 0)
                snprintf(ratio, sizeof(ratio), "ratio %.2f", ls / ld);
        else
                snprintf(ratio, sizeof(ratio), ls > 0 ? "idle target: any ratio" : "both idle");
        snprintf(buf, size, "%snr_running %.1f vs %.1f, load %.2f vs %.2f (%s)", nodes, w->nr[s], w->nr[d],
                 ls, ld, ratio);
}

/* The plan says when a VM stayed with VMs sharing its pages: the move that
 * would have helped most without BALANCE_SHARE_BONUS took it away from them. */
static void note_kept(struct bp_work *w, const struct candidate *best, const struct candidate *plain)
{
        const struct balance_domain *kept;
        unsigned with;

        if (plain->a < 0 || plain->span >= 0 || (plain->a == best->a && plain->b == best->b && plain->d == best->d))
                return;
        /* the half of a swap that leaves its group */
        if (plain->b >= 0 && span_delta_of(w, (size_t) plain->a, plain->s, plain->d) >= 0) {
                kept = &w->snap->domains[plain->b];
                with = bp_share_on(w, (size_t) plain->b, plain->d);
                bp_plan_note(w, (size_t) plain->b, "%s kept on node%u with %u VM%s sharing pages; %s moved instead",
                             kept->name, plain->d, with, with == 1 ? "" : "s", w->snap->domains[best->a].name);
                return;
        }
        kept = &w->snap->domains[plain->a];
        with = bp_share_on(w, (size_t) plain->a, plain->s);
        bp_plan_note(w, (size_t) plain->a, "%s kept on node%u with %u VM%s sharing pages; %s moved instead",
                     kept->name, plain->s, with, with == 1 ? "" : "s", w->snap->domains[best->a].name);
}

static bool take(struct bp_work *w, const struct candidate *c)
{
        const struct balance_domain *a = &w->snap->domains[c->a];
        bool at_once = clearly_needed(w, c);
        const char *after = w->p->probation_ticks > 0 && !at_once ? "after probation" : "now";
        struct balance_move *ma, *mb;
        char pair[160], sharing[40] = "";
        unsigned joins = bp_share_on(w, (size_t) c->a, c->d);

        pair_str(w, c->s, c->d, false, pair, sizeof(pair));
        /* said whenever it joins some: following a clone that moved first
         * leaves more of the group than it joins, and is still the point */
        if (joins > 0)
                snprintf(sharing, sizeof(sharing), "; joins %u VM%s sharing pages", joins, joins == 1 ? "" : "s");
        if (c->b < 0) {
                ma = bp_plan_add(w, BALANCE_MOVE_CPU, (size_t) c->a, BALANCE_NODE_BIT(c->s), BALANCE_NODE_BIT(c->d), 0);
                if (!ma)
                        return false;
                snprintf(ma->reason, sizeof(ma->reason), "%s; %s load %.1f, %.1f GiB to migrate %s%s",
                         pair, a->name, bp_dom_load(w, a), bp_mib_to_gib(c->mib), after, sharing);
                start_move(w, (size_t) c->a, c->s, c->d, -1, at_once);
                return true;
        }
        if (w->plan->n_moves + 2 > BALANCE_PLAN_MAX_MOVES)
                return false;
        const struct balance_domain *b = &w->snap->domains[c->b];
        ma = bp_plan_add(w, BALANCE_MOVE_SWAP, (size_t) c->a, BALANCE_NODE_BIT(c->s), BALANCE_NODE_BIT(c->d), 0);
        mb = bp_plan_add(w, BALANCE_MOVE_SWAP, (size_t) c->b, BALANCE_NODE_BIT(c->d), BALANCE_NODE_BIT(c->s), 0);
        snprintf(ma->reason, sizeof(ma->reason), "%s; swap %s (load %.1f) with %s (load %.1f): net %.1f, "
                 "%.1f GiB to migrate %s", pair, a->name, bp_dom_load(w, a), b->name, bp_dom_load(w, b), c->net,
                 bp_mib_to_gib(c->mib), after);
        /* the swap's own line is full; its second half says what the first joins */
        snprintf(mb->reason, sizeof(mb->reason), "swapped with %s: load %.1f%s%s", a->name, bp_dom_load(w, b),
                 sharing[0] ? "; the other" : "", sharing);
        start_move(w, (size_t) c->a, c->s, c->d, c->b, false);
        start_move(w, (size_t) c->b, c->d, c->s, c->a, false);
        return true;
}

static void no_move_reason(struct bp_work *w, unsigned s, unsigned d, bool triggered,
                           const long rejects[_R_MAX])
{
        char *buf = w->plan->reason, pair[160];
        size_t size = sizeof(w->plan->reason), len;
        long total = 0;

        pair_str(w, s, d, true, pair, sizeof(pair));
        if (!triggered && balance_trigger(w->p, w->nr[s], w->node[s]->cpus, w->nr[d], w->node[d]->cpus)) {
                /* the pair is long; the figures are its own */
                snprintf(buf, size, "passing: busiest %s; not on the last tick or the slow view", pair);
                return;
        }
        if (!triggered) {
                snprintf(buf, size, "balanced: busiest %s; needs diff >= %.0f, ratio > %.2f, load > %.2f",
                         pair, w->p->min_nr_running_diff, w->p->min_load_ratio, w->p->min_load_high);
                return;
        }
        len = (size_t) snprintf(buf, size, "%s, but no VM can move or swap:", pair);
        for (int r = R_PINNED; r < _R_MAX && len < size; r++) {
                if (!rejects[r])
                        continue;
                len += (size_t) snprintf(buf + len, size - len, "%s %ld %s", total ? "," : "", rejects[r],
                                         reject_str[r]);
                total += rejects[r];
        }
        if (!total && len < size)
                snprintf(buf + len, size - len, " no VM on node%u", s);
}

/* Rule 1 with hysteresis: a pair meets the trigger now, met it as the
 * last plan left it (or that tick did not know one of them), and with
 * every VM at its slow average the source still leads by the verdict's
 * lower bar and is busy (bp_slow_view_keeps()). Bursts of seconds lifting
 * a node over the trigger moved VMs that probation then sent back
 * (bursty: 87 moves, 18 reverted; 44 and 12 with the last tick's test
 * alone, 14 and 6 with the slow view's lead too, 10 and 4 with its load). */
static bool persists(const struct bp_work *w, unsigned s, unsigned d)
{
        uint64_t both = BALANCE_NODE_BIT(s) | BALANCE_NODE_BIT(d);

        if (!balance_trigger(w->p, w->nr[s], w->node[s]->cpus, w->nr[d], w->node[d]->cpus))
                return false;
        if (!bp_slow_view_keeps(w->p, w->slow[s], w->node[s]->cpus, w->slow[d], w->node[d]->cpus))
                return false;
        return (w->state->nr_avg_valid & both) != both ||
               balance_trigger(w->p, w->last[s], w->node[s]->cpus, w->last[d], w->node[d]->cpus);
}

static void nodes_by_load(const struct bp_work *w, unsigned order[], size_t *n)
{
        *n = 0;
        bp_for_each_node(w, id) {
                size_t j = (*n)++;

                for (; j > 0 && bp_node_load(w, order[j - 1]) < bp_node_load(w, id); j--)
                        order[j] = order[j - 1];
                order[j] = id;
        }
}

/* One decision: busiest source first, single moves before swaps; a less
 * busy source only when no VM on a busier one can help. */
static bool rebalance_once(struct bp_work *w)
{
        unsigned order[BALANCE_MAX_NODES];
        long rejects[_R_MAX] = {};
        size_t n;

        nodes_by_load(w, order, &n);
        for (size_t si = 0; si + 1 < n; si++) {
                unsigned s = order[si], first = order[n - 1];
                struct candidate best = { .a = -1 }, plain_best = { .a = -1 };
                uint64_t targets = 0;

                for (size_t di = n - 1; di > si; di--)
                        if (persists(w, s, order[di]))
                                targets |= BALANCE_NODE_BIT(order[di]);
                if (!targets) {
                        if (si == 0)
                                no_move_reason(w, s, first, false, rejects);
                        continue;
                }
                best_single(w, s, targets, first, rejects, &best, &plain_best);
                if (best.a < 0 && bp_work_may_move(w, 2))
                        for (size_t di = n - 1; di > si; di--)
                                if (targets & BALANCE_NODE_BIT(order[di]))
                                        best_swap(w, s, order[di], &best, &plain_best);
                if (best.a >= 0) {
                        w->plan->reason[0] = 0;
                        note_kept(w, &best, &plain_best);
                        return take(w, &best);
                }
                if (si == 0)
                        no_move_reason(w, s, first, true, rejects);
        }
        return false;
}

void bp_plan_rebalance(struct bp_work *w)
{
        while (w->moves_left > 0 && w->plan->n_moves < BALANCE_PLAN_MAX_MOVES) {
                w->plan->reason[0] = 0;
                if (!rebalance_once(w))
                        return;
        }
        if (w->plan->reason[0])
                return;
        if (w->cpu_moves > w->p->max_moves_per_tick)
                snprintf(w->plan->reason, sizeof(w->plan->reason), "%ld moves this tick reached "
                         "(max_moves_per_tick %ld per %d VMs)", w->cpu_moves, w->p->max_moves_per_tick,
                         BALANCE_VMS_PER_MOVE);
        else
                snprintf(w->plan->reason, sizeof(w->plan->reason), "max_moves_per_tick (%ld) reached",
                         w->p->max_moves_per_tick);
}

/* ---- probation (rule 4) ---- */

static long find_partner(const struct bp_work *w, const struct balance_vm *vm)
{
        if (!vm->has_partner)
                return -1;
        for (size_t j = 0; j < w->state->n_vms; j++) {
                const struct balance_vm *o = &w->state->vms[j];

                if (o->id == vm->partner_id && o->phase == BALANCE_VM_PROBATION && o->has_partner &&
                    o->partner_id == vm->id)
                        return (long) j;
        }
        return -1;
}

static void keep(struct balance_vm *vm, double src_nr, double dst_nr)
{
        vm->phase = BALANCE_VM_SETTLED;
        vm->migrating = true;
        vm->probation_passed = true;
        vm->sum_src_nr = src_nr;
        vm->sum_dst_nr = dst_nr;
        vm->has_partner = false;
}

static void revert(struct bp_work *w, size_t i, const char *why)
{
        const struct balance_domain *dom = &w->snap->domains[i];
        struct balance_vm *vm = &w->state->vms[i];
        struct balance_move *m;

        m = bp_plan_add(w, BALANCE_MOVE_REVERT, i, vm->home, vm->prev, 0);
        if (!m)
                return;
        snprintf(m->reason, sizeof(m->reason), "%s", why);
        bp_work_reserve(w, dom, vm->home, -1);
        bp_work_shift_vm(w, i, vm->home, vm->prev);
        vm->home = vm->prev;
        bp_work_reserve(w, dom, vm->home, +1);
        vm->phase = BALANCE_VM_SETTLED;
        vm->migrating = false;
        vm->has_partner = false;
        vm->ticks_since_move = 0;
        vm->moves++;
        vm->reverts++;
        w->cpu_moves++;
        w->moves_left = w->moves_left > 0 ? w->moves_left - 1 : 0;
}

/* Kept before the probation is over: with the move undone, the source
 * would lead by the whole trigger on the means so far, and the imbalance
 * is steady(). The move that ended a long, steady imbalance had its memory
 * wait probation_ticks remote (dist8: three ticks at distance 32). */
static bool kept_early(const struct bp_work *w, const struct balance_vm *vm, long j, unsigned s, unsigned d,
                       double src, double dst)
{
        double slow_net = vm->load_slow - (j >= 0 ? w->state->vms[j].load_slow : 0);

        return balance_trigger(w->p, src, w->node[s]->cpus, dst, w->node[d]->cpus) &&
               steady(w, vm, s, d, slow_net);
}

/* The verdict on the means over the probation: with the VM (or the swap)
 * undone, would the source still be busier than the target by a good part
 * of the trigger (bp_verdict_keeps())? A lower bar than the trigger, so
 * that noise around the trigger does not undo a move made on it. Before
 * the probation is over only kept_early() decides. */
static void verdict(struct bp_work *w, size_t i, long j)
{
        struct balance_vm *vm = &w->state->vms[i];
        unsigned s = bp_mask_first(vm->prev), d = bp_mask_first(vm->home);
        double t = (double) vm->probation_ticks;
        double src = vm->sum_src_nr / t, dst = vm->sum_dst_nr / t, net = vm->sum_load / t;
        double ls, ld;
        char why[BALANCE_REASON_MAX - 64];

        if (j >= 0)
                net -= w->state->vms[j].sum_load / t;
        src += net;
        dst -= net;
        if (vm->probation_ticks < w->p->probation_ticks) {
                if (kept_early(w, vm, j, s, d, src, dst)) {
                        keep(vm, src, dst);
                        if (j >= 0)
                                keep(&w->state->vms[j], dst, src);
                }
                return;
        }
        if (bp_verdict_keeps(w->p, src, w->node[s]->cpus, dst, w->node[d]->cpus)) {
                keep(vm, src, dst);
                if (j >= 0)
                        keep(&w->state->vms[j], dst, src);
                return;
        }
        if (!bp_work_may_move(w, j >= 0 ? 2 : 1))
                return; /* no move left this tick: decide again next tick */
        ls = src / w->node[s]->cpus;
        ld = dst / w->node[d]->cpus;
        snprintf(why, sizeof(why), "imbalance gone after %ld ticks: without the move node%u would have "
                 "nr_running %.1f vs %.1f on node%u, load %.2f vs %.2f",
                 vm->probation_ticks, s, src, dst, d, ls, ld);
        revert(w, i, why);
        if (j >= 0)
                revert(w, (size_t) j, why);
}

void bp_plan_probation(struct bp_work *w)
{
        const struct balance_snapshot *snap = w->snap;

        for (size_t i = 0; i < snap->n_domains; i++) {
                struct balance_vm *vm = &w->state->vms[i];

                if (vm->phase != BALANCE_VM_PROBATION)
                        continue;
                vm->probation_ticks++;
                vm->sum_src_nr += w->nr[bp_mask_first(vm->prev)];
                vm->sum_dst_nr += w->nr[bp_mask_first(vm->home)];
                vm->sum_load += w->state->vms[i].load_avg;
        }
        for (size_t i = 0; i < snap->n_domains; i++) {
                struct balance_vm *vm = &w->state->vms[i];
                long j;

                if (vm->phase != BALANCE_VM_PROBATION)
                        continue;
                j = find_partner(w, vm);
                if (!snap->domains[i].movable || (j >= 0 && !snap->domains[j].movable)) {
                        keep(vm, 0, 0); /* made non-movable meanwhile: leave it be */
                        vm->migrating = vm->probation_passed = false;
                        continue;
                }
                /* A swap is judged from the side of the busier VM: its move
                 * was the one that carried the load. */
                if (j >= 0 && w->state->vms[j].sum_load > vm->sum_load)
                        verdict(w, (size_t) j, (long) i);
                else
                        verdict(w, i, j);
        }
}
