/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model host behind tests/bench/sim.c and tests/unit/test-balance-sim.c; see
 * simmodel.h. The scenarios are in simscenarios.c. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simrun.h"
#include "base/util.h"
#include "config/conf.h"
#include "config/ini.h"

#define SIM_FINAL_TICKS 10

double sim_rand(uint64_t seed, uint64_t a, uint64_t b)
{
        uint64_t x = seed ^ (a * UINT64_C(0x9e3779b97f4a7c15)) ^ (b * UINT64_C(0xc2b2ae3d27d4eb4f));

        x ^= x >> 30; x *= UINT64_C(0xbf58476d1ce4e5b9);
        x ^= x >> 27; x *= UINT64_C(0x94d049bb133111eb);
        x ^= x >> 31;
        return (double) (x >> 11) / (double) (UINT64_C(1) << 53);
}

/* vmtuned.conf's defaults, from its option table (a configuration file
 * that does not exist is all defaults), and policy.h's for the rest, as
 * the daemon gets them: never typed again here. */
void sim_params_default(struct balance_params *ret)
{
        if (sim_params_from_file("/nonexistent/vmtuned.conf", ret) < 0)
                abort();
}

int sim_params_from_file(const char *path, struct balance_params *ret)
{
        struct vmtuned_conf *conf = NULL;
        struct conf_error err = {};
        int r = conf_load(path, false, &conf, &err);

        if (r < 0) {
                fprintf(stderr, "sim: %s\n", err.message);
                return r;
        }
        balance_params_from_conf(&conf->balancer, ret);
        conf_free(conf);
        return 0;
}

const char *sim_policy_name(enum sim_policy policy)
{
        static const char *const names[_SIM_POLICY_MAX] = {
                [SIM_KERNEL] = "kernel", [SIM_BIND_START] = "bind-start", [SIM_BIND_BEST] = "bind-best",
                [SIM_SEED] = "seed-rule", [SIM_NUMAD] = "numad-like", [SIM_VMTUNED] = "vmtuned",
        };

        return policy < _SIM_POLICY_MAX ? names[policy] : "?";
}

void sim_host_init(struct sim_host *h, unsigned n_nodes, unsigned cpus, double mem_gib, uint64_t seed)
{
        *h = (struct sim_host) { .n_nodes = n_nodes, .seed = seed };
        for (unsigned n = 0; n < n_nodes; n++) {
                h->cpus[n] = cpus;
                h->mem_total_mib[n] = mem_gib * 1024;
                h->host_used_mib[n] = 1024;
                h->background[n] = 0.2;
                for (unsigned m = 0; m < n_nodes; m++)
                        h->distance[n][m] = n == m ? 10 : 20;
        }
}

struct sim_vm *sim_host_add_vm(struct sim_host *h, const char *name, unsigned vcpus, double mem_gib,
                               double level)
{
        struct sim_vm *vm;

        h->vms = xreallocarray(h->vms, h->n_vms + 1, sizeof(*h->vms));
        vm = &h->vms[h->n_vms++];
        *vm = (struct sim_vm) {
                .id = (unsigned) h->n_vms, .vcpus = vcpus, .mem_size_mib = mem_gib * 1024,
                .grow_mib_per_tick = 1024, .level_hi = level, .leave = -1, .movable = true,
                .numad_moved = -1, .remote_since = -1,
        };
        snprintf(vm->name, sizeof(vm->name), "%s", name);
        return vm;
}

void sim_host_free(struct sim_host *h)
{
        free(h->vms);
        h->vms = NULL;
        h->n_vms = 0;
}

/* ---- the run ---- */

double sim_node_free(const struct run *r, unsigned n)
{
        return r->h->mem_total_mib[n] - r->h->host_used_mib[n] - r->used[n];
}

uint64_t sim_vm_mask(const struct run *r, const struct sim_vm *vm)
{
        return vm->cpu_nodes ? vm->cpu_nodes : r->all;
}

unsigned sim_mask_cpus(const struct run *r, uint64_t mask)
{
        unsigned cpus = 0;

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                if (mask & BALANCE_NODE_BIT(n))
                        cpus += r->h->cpus[n];
        return cpus;
}

double sim_vm_resident(const struct run *r, const struct sim_vm *vm)
{
        double sum = 0;

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                sum += vm->resident[n];
        return sum;
}

void sim_mem_add(struct run *r, struct sim_vm *vm, unsigned n, double mib)
{
        vm->resident[n] += mib;
        r->used[n] += mib;
}

double sim_level_mean(const struct sim_vm *vm)
{
        return (vm->period > 0 ? (vm->level_hi + vm->level_lo) / 2 : vm->level_hi) + vm->jitter / 2 +
               vm->burst * vm->burst_p / 2;
}

void sim_vm_threads(const struct run *r, const struct sim_vm *vm, double w[SIM_MAX_NODES])
{
        uint64_t mask = sim_vm_mask(r, vm);
        unsigned cpus = sim_mask_cpus(r, mask);

        if (r->policy == SIM_KERNEL && vm->movable) {
                sim_kernel_threads(r, vm, w);
                return;
        }
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                w[n] = mask & BALANCE_NODE_BIT(n) ? (double) r->h->cpus[n] / cpus : 0;
}

/* First touch: new memory lands where the vCPUs run, overflow on the
 * nearest node with room. */
static void grow(struct run *r, struct sim_vm *vm)
{
        double want = fmin(vm->grow_mib_per_tick, vm->mem_size_mib - sim_vm_resident(r, vm));
        double w[SIM_MAX_NODES], left = want;
        unsigned first = 0;

        if (want <= 0)
                return;
        sim_vm_threads(r, vm, w);
        for (unsigned n = 0; n < r->h->n_nodes; n++) {
                double mib;

                if (w[n] > w[first])
                        first = n;
                mib = fmin(want * w[n], fmax(sim_node_free(r, n), 0));
                sim_mem_add(r, vm, n, mib);
                left -= mib;
        }
        while (left > 0.5) {
                unsigned best = SIM_MAX_NODES;

                for (unsigned n = 0; n < r->h->n_nodes; n++)
                        if (sim_node_free(r, n) >= 1 && (best == SIM_MAX_NODES ||
                                                    r->h->distance[first][n] < r->h->distance[first][best]))
                                best = n;
                if (best == SIM_MAX_NODES)
                        return; /* no memory anywhere: it waits */
                double mib = fmin(left, sim_node_free(r, best));
                sim_mem_add(r, vm, best, mib);
                left -= mib;
        }
}

/* Move up to mib of vm's memory from outside to into to, the biggest
 * remote share first, into the node of to with most room. */
static double migrate(struct run *r, struct sim_vm *vm, uint64_t to, double mib)
{
        double moved = 0;

        while (mib - moved >= 1) {
                unsigned src = SIM_MAX_NODES, dst = SIM_MAX_NODES;

                for (unsigned n = 0; n < r->h->n_nodes; n++) {
                        if (to & BALANCE_NODE_BIT(n)) {
                                if (sim_node_free(r, n) >= 1 && (dst == SIM_MAX_NODES || sim_node_free(r, n) > sim_node_free(r, dst)))
                                        dst = n;
                        } else if (vm->resident[n] >= 1 && (src == SIM_MAX_NODES || vm->resident[n] > vm->resident[src])) {
                                src = n;
                        }
                }
                if (src == SIM_MAX_NODES || dst == SIM_MAX_NODES)
                        break;
                double amount = fmin(fmin(vm->resident[src], sim_node_free(r, dst)), mib - moved);
                sim_mem_add(r, vm, src, -amount);
                sim_mem_add(r, vm, dst, amount);
                r->copied[dst] += amount;
                moved += amount;
        }
        return moved;
}

static double level_at(const struct sim_vm *vm, long t)
{
        if (vm->period <= 0)
                return vm->level_hi;
        return ((t + vm->phase) / vm->period) % 2 == 0 ? vm->level_hi : vm->level_lo;
}

static void update_vms(struct run *r)
{
        struct sim_host *h = r->h;

        for (size_t i = 0; i < h->n_vms; i++) {
                struct sim_vm *vm = &h->vms[i];
                bool alive = r->t >= vm->arrive && (vm->leave < 0 || r->t < vm->leave);

                if (vm->alive && !alive)
                        for (unsigned n = 0; n < h->n_nodes; n++)
                                sim_mem_add(r, vm, n, -vm->resident[n]);
                if (!vm->alive && alive && r->policy == SIM_BIND_BEST && r->t > 0)
                        sim_bind_best(r, vm);
                vm->alive = alive;
                r->demand[i] = 0;
                if (!alive)
                        continue;
                r->demand[i] = level_at(vm, r->t) + vm->jitter * sim_rand(h->seed, vm->id, (uint64_t) r->t);
                if (vm->burst_p > 0 && sim_rand(h->seed ^ 1, vm->id, (uint64_t) r->t) < vm->burst_p)
                        r->demand[i] += vm->burst * sim_rand(h->seed ^ 2, vm->id, (uint64_t) r->t);
                grow(r, vm);
        }
}

/* nr_running by node, from demand (or from the levels alone, to judge
 * balance without the jitter). */
static void node_nr(const struct run *r, bool levels, double nr[SIM_MAX_NODES])
{
        const struct sim_host *h = r->h;

        for (unsigned n = 0; n < h->n_nodes; n++)
                nr[n] = h->background[n];
        for (size_t i = 0; i < h->n_vms; i++) {
                const struct sim_vm *vm = &h->vms[i];
                uint64_t mask = sim_vm_mask(r, vm);
                unsigned cpus = sim_mask_cpus(r, mask);
                double d = levels ? level_at(vm, r->t) : r->demand[i];

                if (!vm->alive)
                        continue;
                for (unsigned n = 0; n < h->n_nodes; n++)
                        if (mask & BALANCE_NODE_BIT(n))
                                nr[n] += d * h->cpus[n] / cpus;
        }
}

/* A VM whose whole memory one tick's budget could move should not wait
 * long with most of it elsewhere (behind a big VM, say). Placed VMs only:
 * an unplaced one has no home to be local to. */
static void track_wait(struct run *r, struct sim_vm *vm, double local, double total)
{
        bool small = vm->mem_size_mib <= (double) r->p->max_migrate_mib_per_tick;

        if (!vm->cpu_nodes || total <= 0 || 2 * local >= total) {
                vm->remote_since = -1;
                return;
        }
        if (vm->remote_since < 0)
                vm->remote_since = r->t;
        if (small && r->t + 1 - vm->remote_since > r->res.small_wait_max)
                r->res.small_wait_max = r->t + 1 - vm->remote_since;
}

/* Balanced: no two nodes meet the trigger on the demand levels (jitter
 * apart), the very test the policies act on. */
static bool triggered(const struct run *r, const double level[SIM_MAX_NODES])
{
        const struct sim_host *h = r->h;

        for (unsigned a = 0; a < h->n_nodes; a++)
                for (unsigned b = 0; b < h->n_nodes; b++)
                        if (a != b && balance_trigger(r->p, level[a], h->cpus[a], level[b], h->cpus[b]))
                                return true;
        return false;
}

/* Chance that a vCPU's access finds its memory on its own node. */
static void measure(struct run *r, const double nr[SIM_MAX_NODES])
{
        const struct sim_host *h = r->h;
        double local = 0, total = 0, level[SIM_MAX_NODES], lmax = 0, lsum = 0, nmax = 0, nmin = INFINITY;
        unsigned cpus = 0;

        for (size_t i = 0; i < h->n_vms; i++) {
                struct sim_vm *vm = &h->vms[i];
                double w[SIM_MAX_NODES], vm_local = 0, vm_total = sim_vm_resident(r, vm);

                if (!vm->alive) {
                        vm->remote_since = -1;
                        continue;
                }
                sim_vm_threads(r, vm, w);
                for (unsigned n = 0; n < h->n_nodes; n++)
                        vm_local += vm->resident[n] * w[n];
                local += vm_local;
                total += vm_total;
                track_wait(r, vm, vm_local, vm_total);
        }
        r->local_sum += total > 0 ? local / total : 1;

        node_nr(r, true, level);
        if (triggered(r, level))
                r->last_unbalanced = r->t;
        for (unsigned n = 0; n < h->n_nodes; n++) {
                lmax = fmax(lmax, level[n] / h->cpus[n]);
                lsum += level[n];
                cpus += h->cpus[n];
                nmax = fmax(nmax, nr[n] / h->cpus[n]);
                nmin = fmin(nmin, nr[n] / h->cpus[n]);
        }
        r->res.final_max_over_avg = lsum > 0 ? lmax / (lsum / cpus) : 1;
        if (r->t >= r->res.ticks - SIM_FINAL_TICKS) {
                r->load_max_sum += nmax;
                r->load_min_sum += nmin;
        }
}

static void snapshot(struct run *r, const double nr[SIM_MAX_NODES])
{
        const struct sim_host *h = r->h;

        for (unsigned n = 0; n < h->n_nodes; n++) {
                double free_mib = fmax(sim_node_free(r, n), 0);

                r->nodes[n] = (struct balance_node) {
                        .id = n, .cpus = h->cpus[n], .nr_running = nr[n],
                        .mem_total_mib = (uint64_t) h->mem_total_mib[n], .mem_free_mib = (uint64_t) free_mib,
                };
                for (unsigned m = 0; m < h->n_nodes; m++)
                        r->nodes[n].distance[m] = h->distance[n][m];
        }
        r->n_doms = 0;
        for (size_t i = 0; i < h->n_vms; i++) {
                const struct sim_vm *vm = &h->vms[i];
                struct balance_domain *d = &r->doms[r->n_doms];

                if (!vm->alive)
                        continue;
                *d = (struct balance_domain) {
                        .id = vm->id, .name = vm->name, .vcpus = vm->vcpus, .load = r->demand[i],
                        .mem_size_mib = (uint64_t) vm->mem_size_mib, .cpu_nodes = vm->cpu_nodes,
                        .movable = vm->movable, .not_movable_reason = vm->movable ? NULL : "pinned",
                        .share_group = vm->share_group,
                };
                for (unsigned n = 0; n < h->n_nodes; n++)
                        d->mem_mib[n] = (uint64_t) llround(vm->resident[n]);
                r->bvms[r->n_doms] = vm->bstate;
                r->dom_vm[r->n_doms++] = i;
        }
}

static double usec_since(const struct timespec *a)
{
        struct timespec b;

        clock_gettime(CLOCK_MONOTONIC, &b);
        return (double) (b.tv_sec - a->tv_sec) * 1e6 + (double) (b.tv_nsec - a->tv_nsec) / 1e3;
}

/* vmtuned learns the mover's rate from each finished memory move, as the
 * daemon does (balancer.c's record_result()). */
static void record(struct run *r, const struct sim_migration *q)
{
        const struct sim_vm *vm = &r->h->vms[q->vm];
        struct balance_result res = {
                .migrated_mib = (uint64_t) llround(q->moved),
                .elapsed_usec = (uint64_t) llround(q->moved * sim_model.migrate_sec_per_gib / 1024 * 1e6),
        };
        char why[BALANCE_REASON_MAX];

        if (r->policy != SIM_VMTUNED)
                return;
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                if (!(q->to & BALANCE_NODE_BIT(n)))
                        res.remote_mib += (uint64_t) llround(vm->resident[n]);
        (void) balance_record_result(&r->state, &q->move, &res, why, sizeof(why));
}

/* One tick of the mover: the queue in order, as much as 5 s copy. A
 * migration that moves less than asked (nothing left outside its nodes,
 * or no room) is over. */
static void mover_tick(struct run *r)
{
        double sec_per_mib = sim_model.migrate_sec_per_gib / 1024, left = SIM_TICK_SEC;
        size_t k = 0;

        while (k < r->n_queued && (sec_per_mib <= 0 || left > 0)) {
                struct sim_migration *q = &r->queue[k];
                double want = sec_per_mib > 0 ? fmin(q->mib, left / sec_per_mib) : q->mib;
                double moved = migrate(r, &r->h->vms[q->vm], q->to, want);

                r->res.mem_moved_gib += moved / 1024;
                left -= moved * sec_per_mib;
                q->mib -= moved;
                q->moved += moved;
                if (moved + 0.5 < want || q->mib < 1)
                        record(r, &r->queue[k++]);
                else
                        break; /* the tick is over in the middle of this one */
        }
        memmove(r->queue, r->queue + k, (r->n_queued - k) * sizeof(*r->queue));
        r->n_queued -= k;
}

static int decide(struct run *r)
{
        struct balance_snapshot snap = {
                .nodes = r->nodes, .n_nodes = r->h->n_nodes, .domains = r->doms, .n_domains = r->n_doms,
        };
        struct timespec start;
        double usec;
        int ret = 0;

        r->plan.n_moves = r->plan.n_notes = 0;
        r->plan.reason[0] = 0;
        if (r->n_queued > 0)
                return 0; /* the mover is still at the last tick's moves */
        clock_gettime(CLOCK_MONOTONIC, &start);
        switch (r->policy) {
        case SIM_KERNEL:
        case SIM_BIND_START:
        case SIM_BIND_BEST:
                break;
        case SIM_SEED:
                ret = balance_seed_rule_plan(r->p, &snap, &r->plan);
                break;
        case SIM_NUMAD:
                sim_numad_plan(r, &snap, &r->plan);
                break;
        case SIM_VMTUNED:
                r->state.vms = r->bvms;
                r->state.n_vms = r->n_doms;
                ret = balance_plan(r->p, &snap, &r->state, &r->plan);
                break;
        default:
                return -EINVAL;
        }
        usec = usec_since(&start);
        r->res.decide_usec_avg += usec;
        r->res.decide_usec_max = fmax(r->res.decide_usec_max, usec);
        return ret;
}

static void apply(struct run *r)
{
        for (size_t k = 0; k < r->plan.n_moves; k++) {
                const struct balance_move *m = &r->plan.moves[k];
                struct sim_vm *vm = &r->h->vms[r->dom_vm[m->domain]];

                switch (m->kind) {
                case BALANCE_MOVE_PLACE:
                        r->res.placements++;
                        break;
                case BALANCE_MOVE_REVERT:
                        r->res.reverts++;
                        /* fall through */
                case BALANCE_MOVE_CPU:
                case BALANCE_MOVE_SWAP:
                        r->res.moves++;
                        if (m->from_nodes && m->to_nodes)
                                r->distance_sum += r->h->distance[__builtin_ctzll(m->from_nodes)]
                                                                 [__builtin_ctzll(m->to_nodes)];
                        vm->moves++;
                        if (vm->moves > r->res.max_moves_per_vm)
                                r->res.max_moves_per_vm = vm->moves;
                        if (vm->moved_from && m->to_nodes == vm->moved_from &&
                            ++vm->returns > r->res.max_returns_per_vm)
                                r->res.max_returns_per_vm = vm->returns;
                        vm->moved_from = m->from_nodes;
                        break;
                case BALANCE_MOVE_MEMORY:
                        break;
                }
                if (m->kind != BALANCE_MOVE_MEMORY)
                        vm->cpu_nodes = m->to_nodes == r->all ? 0 : m->to_nodes;
                if (m->migrate_mib)
                        r->queue[r->n_queued++] = (struct sim_migration) {
                                .vm = r->dom_vm[m->domain], .to = m->to_nodes, .mib = (double) m->migrate_mib,
                                .move = *m,
                        };
        }
}

/* The policy's per-VM state back to the VMs, after the mover told it. */
static void keep_state(struct run *r)
{
        for (size_t k = 0; k < r->n_doms; k++)
                r->h->vms[r->dom_vm[k]].bstate = r->bvms[k];
}

static void trace_plan(const struct run *r, const double nr[SIM_MAX_NODES])
{
        fprintf(r->trace, "t=%ld nr_running", r->t);
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                fprintf(r->trace, " %.1f", nr[n]);
        fputc('\n', r->trace);
        for (size_t k = 0; k < r->plan.n_moves; k++) {
                const struct balance_move *m = &r->plan.moves[k];

                fprintf(r->trace, "  %-6s %s %#" PRIx64 "->%#" PRIx64 " %s\n", balance_move_kind_to_string(m->kind),
                        r->h->vms[r->dom_vm[m->domain]].name, m->from_nodes, m->to_nodes, m->reason);
        }
        for (size_t k = 0; k < r->plan.n_notes; k++)
                fprintf(r->trace, "  note   %s\n", r->plan.notes[k].reason);
        if (r->plan.reason[0])
                fprintf(r->trace, "  why    %s\n", r->plan.reason);
}

int sim_run_host(struct sim_host *h, long ticks, enum sim_policy policy, const struct balance_params *p,
                 FILE *trace, struct sim_result *ret)
{
        _cleanup_free_ struct run *r = NULL;
        int err = 0;

        if (ticks <= 0 || h->n_nodes == 0 || h->n_nodes > SIM_MAX_NODES || policy >= _SIM_POLICY_MAX) {
                sim_host_free(h);
                return -EINVAL;
        }
        r = xcalloc(1, sizeof(*r));
        *r = (struct run) { .h = h, .p = p, .policy = policy, .trace = trace, .all = BALANCE_NODE_BIT(h->n_nodes) - 1,
                            .last_unbalanced = -1, .res = { .ticks = ticks } };
        r->demand = xcalloc(h->n_vms, sizeof(*r->demand));
        r->doms = xcalloc(h->n_vms, sizeof(*r->doms));
        r->bvms = xcalloc(h->n_vms, sizeof(*r->bvms));
        r->dom_vm = xcalloc(h->n_vms, sizeof(*r->dom_vm));
        r->order = xcalloc(h->n_vms, sizeof(*r->order));
        r->queue = xcalloc(BALANCE_PLAN_MAX_MOVES, sizeof(*r->queue));
        for (size_t i = 0; i < h->n_vms; i++)
                for (unsigned n = 0; n < h->n_nodes; n++)
                        r->used[n] += h->vms[i].resident[n];
        /* The kernel alone lets every VM float; manual binding binds them
         * before they start. */
        for (size_t i = 0; i < h->n_vms && policy == SIM_KERNEL; i++)
                if (h->vms[i].movable)
                        h->vms[i].cpu_nodes = 0;
        if (policy == SIM_BIND_BEST)
                sim_bind_best_start(r);

        for (r->t = 0; r->t < ticks && err >= 0; r->t++) {
                double nr[SIM_MAX_NODES];

                update_vms(r);
                node_nr(r, false, nr);
                measure(r, nr);
                sim_score_tick(r, nr);
                snapshot(r, nr);
                err = decide(r);
                if (err < 0)
                        break;
                if (r->trace)
                        trace_plan(r, nr);
                apply(r);
                mover_tick(r);
                keep_state(r);
                if (policy == SIM_KERNEL)
                        sim_kernel_autonuma(r);
        }
        if (err >= 0) {
                struct sim_result *res = &r->res;
                long final = ticks < SIM_FINAL_TICKS ? ticks : SIM_FINAL_TICKS;

                res->ticks_to_balance = r->last_unbalanced == ticks - 1 ? -1 : r->last_unbalanced + 1;
                res->final_max_load = r->load_max_sum / (double) final;
                res->final_min_load = r->load_min_sum / (double) final;
                res->local_fraction = r->local_sum / (double) ticks;
                res->decide_usec_avg /= (double) ticks;
                res->move_distance_avg = res->moves ? r->distance_sum / (double) res->moves : 0;
                sim_score_finish(r);
                *ret = *res;
        }
        free(r->demand);
        free(r->doms);
        free(r->bvms);
        free(r->dom_vm);
        free(r->order);
        free(r->queue);
        sim_host_free(h);
        return err;
}

int sim_run(const struct sim_scenario *sc, enum sim_policy policy, const struct balance_params *p,
            FILE *trace, struct sim_result *ret)
{
        struct sim_host h;

        sc->build(&h);
        return sim_run_host(&h, sc->ticks, policy, p, trace, ret);
}

const struct sim_scenario *sim_scenario_find(const char *name)
{
        for (const struct sim_scenario *sc = sim_scenarios; sc->name; sc++)
                if (streq(sc->name, name))
                        return sc;
        return NULL;
}
