/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The model host behind tests/bench/sim.c and tests/unit/test-balance-sim.c; see
 * simmodel.h. The scenarios are in simscenarios.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "simmodel.h"
#include "base/util.h"
#include "config/conf.h"
#include "config/ini.h"

/* numad, per the anchors: candidates above 0.5 CPU and 300 MB, skipped
 * for 300 s after a move, 5 s between cycles after a move, 15 s otherwise,
 * 85 % target utilisation, memory counted as local from 90 %. */
#define NUMAD_COOLDOWN_TICKS 60
#define NUMAD_IDLE_TICKS 3
#define NUMAD_MIN_LOAD 0.5
#define NUMAD_MIN_MIB 300.0
#define NUMAD_LOCAL_OK 0.9
#define NUMAD_TARGET_UTIL 0.85
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
        struct vmtuned_conf *conf = NULL;
        struct conf_error err = {};

        if (conf_load("/nonexistent/vmtuned.conf", false, &conf, &err) < 0)
                abort();
        balance_params_from_conf(&conf->balancer, ret);
        conf_free(conf);
}

const char *sim_policy_name(enum sim_policy policy)
{
        static const char *const names[_SIM_POLICY_MAX] = {
                [SIM_NONE] = "none", [SIM_SEED] = "seed-rule", [SIM_NUMAD] = "numad-like",
                [SIM_VMTUNED] = "vmtuned",
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
                .numad_moved = -NUMAD_COOLDOWN_TICKS, .remote_since = -1,
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

struct run {
        struct sim_host *h;
        const struct balance_params *p;
        enum sim_policy policy;
        FILE *trace;
        long t;
        uint64_t all;                          /* mask of every node */
        double used[SIM_MAX_NODES];            /* VM memory by node */
        double *demand;                        /* by VM, this tick */
        struct balance_node nodes[SIM_MAX_NODES];
        struct balance_domain *doms;
        struct balance_vm *bvms;
        size_t *dom_vm;                        /* snapshot index -> VM index */
        size_t *order;                         /* numad's candidate order */
        size_t n_doms;
        struct balance_plan plan;
        struct balance_state state;            /* vms re-pointed every tick */
        long numad_next;
        struct sim_result res;
        double local_sum, load_max_sum, load_min_sum, distance_sum;
        long last_unbalanced;
};

static double node_free(const struct run *r, unsigned n)
{
        return r->h->mem_total_mib[n] - r->h->host_used_mib[n] - r->used[n];
}

static uint64_t vm_mask(const struct run *r, const struct sim_vm *vm)
{
        return vm->cpu_nodes ? vm->cpu_nodes : r->all;
}

static unsigned mask_cpus_of(const struct run *r, uint64_t mask)
{
        unsigned cpus = 0;

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                if (mask & BALANCE_NODE_BIT(n))
                        cpus += r->h->cpus[n];
        return cpus;
}

static double vm_resident_total(const struct run *r, const struct sim_vm *vm)
{
        double sum = 0;

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                sum += vm->resident[n];
        return sum;
}

static void mem_add(struct run *r, struct sim_vm *vm, unsigned n, double mib)
{
        vm->resident[n] += mib;
        r->used[n] += mib;
}

/* First touch: new memory lands where the vCPUs run (by CPUs), overflow on
 * the nearest node with room. */
static void grow(struct run *r, struct sim_vm *vm)
{
        double want = fmin(vm->grow_mib_per_tick, vm->mem_size_mib - vm_resident_total(r, vm));
        uint64_t mask = vm_mask(r, vm);
        unsigned cpus = mask_cpus_of(r, mask), first = (unsigned) __builtin_ctzll(mask);
        double left = want;

        if (want <= 0)
                return;
        for (unsigned n = 0; n < r->h->n_nodes; n++) {
                double mib;

                if (!(mask & BALANCE_NODE_BIT(n)))
                        continue;
                mib = fmin(want * r->h->cpus[n] / cpus, fmax(node_free(r, n), 0));
                mem_add(r, vm, n, mib);
                left -= mib;
        }
        while (left > 0.5) {
                unsigned best = SIM_MAX_NODES;

                for (unsigned n = 0; n < r->h->n_nodes; n++)
                        if (node_free(r, n) >= 1 && (best == SIM_MAX_NODES ||
                                                    r->h->distance[first][n] < r->h->distance[first][best]))
                                best = n;
                if (best == SIM_MAX_NODES)
                        return; /* no memory anywhere: it waits */
                double mib = fmin(left, node_free(r, best));
                mem_add(r, vm, best, mib);
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
                                if (node_free(r, n) >= 1 && (dst == SIM_MAX_NODES || node_free(r, n) > node_free(r, dst)))
                                        dst = n;
                        } else if (vm->resident[n] >= 1 && (src == SIM_MAX_NODES || vm->resident[n] > vm->resident[src])) {
                                src = n;
                        }
                }
                if (src == SIM_MAX_NODES || dst == SIM_MAX_NODES)
                        break;
                double amount = fmin(fmin(vm->resident[src], node_free(r, dst)), mib - moved);
                mem_add(r, vm, src, -amount);
                mem_add(r, vm, dst, amount);
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
                                mem_add(r, vm, n, -vm->resident[n]);
                vm->alive = alive;
                r->demand[i] = 0;
                if (!alive)
                        continue;
                r->demand[i] = level_at(vm, r->t) + vm->jitter * sim_rand(h->seed, vm->id, (uint64_t) r->t);
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
                uint64_t mask = vm_mask(r, vm);
                unsigned cpus = mask_cpus_of(r, mask);
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
                uint64_t mask = vm_mask(r, vm);
                unsigned mcpus = mask_cpus_of(r, mask);
                double vm_local = 0, vm_total = vm_resident_total(r, vm);

                if (!vm->alive) {
                        vm->remote_since = -1;
                        continue;
                }
                for (unsigned n = 0; n < h->n_nodes; n++)
                        if (mask & BALANCE_NODE_BIT(n))
                                vm_local += vm->resident[n] * h->cpus[n] / mcpus;
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
                double free_mib = fmax(node_free(r, n), 0);

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
                };
                for (unsigned n = 0; n < h->n_nodes; n++)
                        d->mem_mib[n] = (uint64_t) llround(vm->resident[n]);
                r->bvms[r->n_doms] = vm->bstate;
                r->dom_vm[r->n_doms++] = i;
        }
}

static double dom_resident(const struct balance_domain *d)
{
        double sum = 0;

        for (unsigned n = 0; n < BALANCE_MAX_NODES; n++)
                sum += (double) d->mem_mib[n];
        return sum;
}

static int cmp_numad(const void *a, const void *b, void *userdata)
{
        const struct run *r = userdata;
        const struct balance_domain *x = &r->doms[*(const size_t *) a], *y = &r->doms[*(const size_t *) b];
        double kx = x->load * dom_resident(x), ky = y->load * dom_resident(y);

        return kx < ky ? 1 : kx > ky ? -1 : 0;
}

/* numad-like: biggest CPU x memory process first; to the node with most
 * free CPU where its memory fits; one move per cycle. */
static void numad_plan(struct run *r, const struct balance_snapshot *snap, struct balance_plan *plan)
{
        plan->n_moves = 0;
        if (r->t < r->numad_next)
                return;
        for (size_t k = 0; k < snap->n_domains; k++)
                r->order[k] = k;
        qsort_r(r->order, snap->n_domains, sizeof(*r->order), cmp_numad, r);
        for (size_t k = 0; k < snap->n_domains; k++) {
                size_t i = r->order[k];
                const struct balance_domain *d = &snap->domains[i];
                struct sim_vm *vm = &r->h->vms[r->dom_vm[i]];
                uint64_t cur = d->cpu_nodes ? d->cpu_nodes : r->all, res = (uint64_t) dom_resident(d);
                unsigned cpus = mask_cpus_of(r, cur), best = SIM_MAX_NODES;
                double best_free = 0;

                if (d->load <= NUMAD_MIN_LOAD || (double) res <= NUMAD_MIN_MIB ||
                    r->t - vm->numad_moved < NUMAD_COOLDOWN_TICKS || !d->movable)
                        continue;
                for (unsigned n = 0; n < snap->n_nodes; n++) {
                        double cpu_free = snap->nodes[n].cpus - snap->nodes[n].nr_running;

                        if (cur & BALANCE_NODE_BIT(n))
                                cpu_free += d->load * snap->nodes[n].cpus / cpus;
                        if ((double) (snap->nodes[n].mem_free_mib + d->mem_mib[n]) < (double) res / NUMAD_TARGET_UTIL)
                                continue;
                        if (best == SIM_MAX_NODES || cpu_free > best_free) {
                                best = n;
                                best_free = cpu_free;
                        }
                }
                if (best == SIM_MAX_NODES)
                        continue;
                if (cur == BALANCE_NODE_BIT(best) && (double) d->mem_mib[best] >= NUMAD_LOCAL_OK * (double) res)
                        continue;
                plan->moves[0] = (struct balance_move) {
                        .kind = d->cpu_nodes ? BALANCE_MOVE_CPU : BALANCE_MOVE_PLACE, .domain = i,
                        .domain_id = d->id, .from_nodes = cur, .to_nodes = BALANCE_NODE_BIT(best),
                        .migrate_mib = res - d->mem_mib[best],
                };
                plan->n_moves = 1;
                vm->numad_moved = r->t;
                r->numad_next = r->t + 1;
                return;
        }
        r->numad_next = r->t + NUMAD_IDLE_TICKS;
}

static double usec_since(const struct timespec *a)
{
        struct timespec b;

        clock_gettime(CLOCK_MONOTONIC, &b);
        return (double) (b.tv_sec - a->tv_sec) * 1e6 + (double) (b.tv_nsec - a->tv_nsec) / 1e3;
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
        clock_gettime(CLOCK_MONOTONIC, &start);
        switch (r->policy) {
        case SIM_NONE:
                break;
        case SIM_SEED:
                ret = balance_seed_rule_plan(r->p, &snap, &r->plan);
                break;
        case SIM_NUMAD:
                numad_plan(r, &snap, &r->plan);
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
                        break;
                case BALANCE_MOVE_MEMORY:
                        break;
                }
                if (m->kind != BALANCE_MOVE_MEMORY)
                        vm->cpu_nodes = m->to_nodes == r->all ? 0 : m->to_nodes;
                if (m->migrate_mib)
                        r->res.mem_moved_gib += migrate(r, vm, m->to_nodes, (double) m->migrate_mib) / 1024;
        }
        for (size_t k = 0; k < r->n_doms; k++)
                r->h->vms[r->dom_vm[k]].bstate = r->bvms[k];
}

static void trace_plan(const struct run *r, const double nr[SIM_MAX_NODES])
{
        fprintf(r->trace, "t=%ld nr_running", r->t);
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                fprintf(r->trace, " %.1f", nr[n]);
        fputc('\n', r->trace);
        for (size_t k = 0; k < r->plan.n_moves; k++)
                fprintf(r->trace, "  %-6s %s\n", balance_move_kind_to_string(r->plan.moves[k].kind),
                        r->plan.moves[k].reason);
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
        for (size_t i = 0; i < h->n_vms; i++)
                for (unsigned n = 0; n < h->n_nodes; n++)
                        r->used[n] += h->vms[i].resident[n];

        for (r->t = 0; r->t < ticks && err >= 0; r->t++) {
                double nr[SIM_MAX_NODES];

                update_vms(r);
                node_nr(r, false, nr);
                measure(r, nr);
                snapshot(r, nr);
                err = decide(r);
                if (err < 0)
                        break;
                if (r->trace)
                        trace_plan(r, nr);
                apply(r);
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
                *ret = *res;
        }
        free(r->demand);
        free(r->doms);
        free(r->bvms);
        free(r->dom_vm);
        free(r->order);
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
