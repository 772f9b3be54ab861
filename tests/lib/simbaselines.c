/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The baselines that are not vmtuned's or seed 004's policy code: the
 * kernel alone, manual binding at its best, and numad-like. See
 * simmodel.h; the run loop calls these from simmodel.c. */
#include <math.h>
#include <stdlib.h>

#include "simrun.h"

/* numad, per the anchors: candidates above 0.5 CPU and 300 MB, skipped
 * for 300 s after a move, 5 s between cycles after a move, 15 s otherwise,
 * 85 % target utilisation, memory counted as local from 90 %. */
#define NUMAD_COOLDOWN_TICKS 60
#define NUMAD_IDLE_TICKS 3
#define NUMAD_MIN_LOAD 0.5
#define NUMAD_MIN_MIB 300.0
#define NUMAD_LOCAL_OK 0.9
#define NUMAD_TARGET_UTIL 0.85

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
void sim_numad_plan(struct run *r, const struct balance_snapshot *snap, struct balance_plan *plan)
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
                unsigned cpus = sim_mask_cpus(r, cur), best = SIM_MAX_NODES;
                double best_free = 0;

                if (d->load <= NUMAD_MIN_LOAD || (double) res <= NUMAD_MIN_MIB ||
                    (vm->numad_moved >= 0 && r->t - vm->numad_moved < NUMAD_COOLDOWN_TICKS) || !d->movable)
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

/* ---- the kernel alone ----
 *
 * Seed 004's "no balancer": the scheduler's host-wide load balancing keeps
 * every CPU equally busy (the run's node_nr() spreads a floating VM's
 * demand by CPUs, so every thread gets the same CPU share), but it scatters
 * a VM's threads: a share kernel_spread of its run time is on any node (by
 * CPUs), the rest on the node holding most of its memory (where wake-up
 * affinity and NUMA balancing pull it). New memory is first touched where
 * the threads run; NUMA balancing (autonuma) migrates memory toward them at
 * most autonuma_mib_per_tick a VM. Its fixed point puts half of a 4-node
 * VM's memory on one node and the rest spread, as seed 004's numa_maps
 * show for the no-balancer run (kernel_spread = 2/3). */

unsigned sim_main_node(const struct run *r, const struct sim_vm *vm)
{
        unsigned best = vm->id % r->h->n_nodes;

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                if (vm->resident[n] > vm->resident[best])
                        best = n;
        return best;
}

void sim_kernel_threads(const struct run *r, const struct sim_vm *vm, double w[SIM_MAX_NODES])
{
        unsigned cpus = sim_mask_cpus(r, r->all), main = sim_main_node(r, vm);

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                w[n] = sim_model.kernel_spread * r->h->cpus[n] / cpus;
        w[main] += 1 - sim_model.kernel_spread;
}

/* Memory toward where the threads run: from the nodes holding more than
 * their share to those holding less, within the per-VM rate and free room. */
void sim_kernel_autonuma(struct run *r)
{
        for (size_t i = 0; i < r->h->n_vms; i++) {
                struct sim_vm *vm = &r->h->vms[i];
                double w[SIM_MAX_NODES], total = sim_vm_resident(r, vm), budget = sim_model.autonuma_mib_per_tick;

                if (!vm->alive || !vm->movable || total <= 0)
                        continue;
                sim_kernel_threads(r, vm, w);
                while (budget >= 1) {
                        unsigned src = SIM_MAX_NODES, dst = SIM_MAX_NODES;
                        double over = 0, under = 0;

                        for (unsigned n = 0; n < r->h->n_nodes; n++) {
                                double d = vm->resident[n] - w[n] * total;

                                if (d > over) {
                                        over = d;
                                        src = n;
                                }
                                if (-d > under && sim_node_free(r, n) >= 1) {
                                        under = -d;
                                        dst = n;
                                }
                        }
                        if (src == SIM_MAX_NODES || dst == SIM_MAX_NODES || over < 1 || under < 1)
                                break;
                        double mib = fmin(fmin(over, under), fmin(budget, sim_node_free(r, dst)));
                        sim_mem_add(r, vm, src, -mib);
                        sim_mem_add(r, vm, dst, mib);
                        r->copied[dst] += mib;
                        r->res.mem_moved_gib += mib / 1024;
                        budget -= mib;
                }
        }
}

/* ---- manual binding, the best static placement ----
 *
 * What an administrator who knew each VM's mean load would bind: the
 * biggest VMs first, each on the node with the lowest load per CPU after
 * it where it fits (vCPUs and memory); a VM no node holds on the fewest
 * nearest nodes that do. VMs arriving later are bound as they start, on
 * what the VMs present have bound. Memory is where the binding put it from
 * the start (numatune at boot), so nothing is migrated. */

static bool present(const struct run *r, const struct sim_vm *vm)
{
        return vm->arrive <= r->t && (vm->leave < 0 || r->t < vm->leave);
}

static void committed(const struct run *r, const struct sim_vm *skip, double load[SIM_MAX_NODES],
                      double mem[SIM_MAX_NODES])
{
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                load[n] = mem[n] = 0;
        for (size_t i = 0; i < r->h->n_vms; i++) {
                const struct sim_vm *vm = &r->h->vms[i];
                unsigned cpus = sim_mask_cpus(r, vm->cpu_nodes);

                if (vm == skip || !vm->cpu_nodes || !present(r, vm))
                        continue;
                for (unsigned n = 0; n < r->h->n_nodes; n++)
                        if (vm->cpu_nodes & BALANCE_NODE_BIT(n)) {
                                load[n] += sim_level_mean(vm) * r->h->cpus[n] / cpus;
                                mem[n] += vm->mem_size_mib * r->h->cpus[n] / cpus;
                        }
        }
}

static uint64_t best_mask(const struct run *r, const struct sim_vm *vm)
{
        const struct sim_host *h = r->h;
        double load[SIM_MAX_NODES], mem[SIM_MAX_NODES], room[SIM_MAX_NODES], lvl = sim_level_mean(vm);
        unsigned best = SIM_MAX_NODES, cpus = 0;
        uint64_t mask;
        double mib = 0;

        committed(r, vm, load, mem);
        for (unsigned n = 0; n < h->n_nodes; n++) {
                room[n] = h->mem_total_mib[n] - h->host_used_mib[n] - mem[n];
                if (vm->vcpus > h->cpus[n] || room[n] < vm->mem_size_mib)
                        continue;
                if (best == SIM_MAX_NODES ||
                    (load[n] + lvl) / h->cpus[n] < (load[best] + lvl) / h->cpus[best])
                        best = n;
        }
        if (best != SIM_MAX_NODES)
                return BALANCE_NODE_BIT(best);
        /* Bigger than any node: from the least loaded node, the nearest next. */
        best = 0;
        for (unsigned n = 1; n < h->n_nodes; n++)
                if (load[n] / h->cpus[n] < load[best] / h->cpus[best])
                        best = n;
        mask = 0;
        while (mask != r->all && (cpus < vm->vcpus || mib < vm->mem_size_mib)) {
                unsigned next = SIM_MAX_NODES;

                for (unsigned n = 0; n < h->n_nodes; n++)
                        if (!(mask & BALANCE_NODE_BIT(n)) &&
                            (next == SIM_MAX_NODES || h->distance[best][n] < h->distance[best][next] ||
                             (h->distance[best][n] == h->distance[best][next] &&
                              load[n] / h->cpus[n] < load[next] / h->cpus[next])))
                                next = n;
                mask |= BALANCE_NODE_BIT(next);
                cpus += h->cpus[next];
                mib += fmax(room[next], 0);
        }
        return mask;
}

void sim_bind_best(struct run *r, struct sim_vm *vm)
{
        uint64_t mask;
        unsigned cpus;
        double total;

        if (!vm->movable)
                return;
        mask = best_mask(r, vm);
        cpus = sim_mask_cpus(r, mask);
        total = sim_vm_resident(r, vm);
        vm->cpu_nodes = mask == r->all ? 0 : mask;
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                sim_mem_add(r, vm, n, -vm->resident[n]);
        for (unsigned n = 0; n < r->h->n_nodes; n++)
                if (mask & BALANCE_NODE_BIT(n))
                        sim_mem_add(r, vm, n, total * r->h->cpus[n] / cpus);
}

/* A VM's dominant share of the host: of its CPUs or of its memory. */
static double dominant(const struct run *r, const struct sim_vm *vm)
{
        double mem = 0;

        for (unsigned n = 0; n < r->h->n_nodes; n++)
                mem += r->h->mem_total_mib[n] - r->h->host_used_mib[n];
        return fmax(sim_level_mean(vm) / sim_mask_cpus(r, r->all), vm->mem_size_mib / mem);
}

static int cmp_dominant(const void *a, const void *b, void *userdata)
{
        const struct run *r = userdata;
        size_t i = *(const size_t *) a, j = *(const size_t *) b;
        double x = dominant(r, &r->h->vms[i]), y = dominant(r, &r->h->vms[j]);

        return x < y ? 1 : x > y ? -1 : (i > j) - (i < j);
}

/* The VMs there from the start, biggest first (bin packing's rule): by
 * load, or by memory for those that hold more of it than of the CPUs. */
void sim_bind_best_start(struct run *r)
{
        size_t n = 0;

        for (size_t i = 0; i < r->h->n_vms; i++)
                if (r->h->vms[i].arrive <= 0 && r->h->vms[i].movable) {
                        r->h->vms[i].cpu_nodes = 0;
                        r->order[n++] = i;
                }
        qsort_r(r->order, n, sizeof(*r->order), cmp_dominant, r);
        for (size_t k = 0; k < n; k++)
                sim_bind_best(r, &r->h->vms[r->order[k]]);
}
