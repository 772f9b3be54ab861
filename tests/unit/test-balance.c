/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer policy, one rule per test (the rules as numbered in
 * include/balance/policy.h), on hand-made snapshots: the seed trigger (rule
 * 1), placement (2), the cheapest non-overshooting move (3), probation and
 * its revert (4), memory that follows and its rate limit (5), fit (6), big
 * VMs (2), pinned VMs (9), cooldown and the move budget (8), swaps (7), the
 * seed rule itself, bad input, and what a move's outcome changes
 * (balance_record_result()). One file past 600 lines because it is one
 * concern: every test drives the same pure policy on the same small model
 * host (struct fx and its helpers), one rule at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "balance/policy.h"

#define MAX_VMS 16
#define BIT(n) BALANCE_NODE_BIT(n)

/* A small host the tests shape: nodes, VMs, the caller-owned state. */
struct fx {
        struct balance_params p;
        struct balance_node nodes[4];
        size_t n_nodes;
        double background[4];
        struct balance_domain doms[MAX_VMS];
        struct balance_vm vms[MAX_VMS];
        size_t n_doms;
        struct balance_state state;
        struct balance_plan plan;
};

static int setup(void **state)
{
        struct fx *f = calloc(1, sizeof(*f));

        f->p = (struct balance_params) {
                .min_nr_running_diff = 2, .min_load_ratio = 1.1, .min_load_high = 1.0,
                .probation_ticks = 3, .cooldown_ticks = 12, .max_moves_per_tick = 1,
                .max_migrate_mib_per_tick = 1024, .move_cost_mib = BALANCE_DEFAULT_MOVE_COST_MIB,
                .local_min_permille = BALANCE_DEFAULT_LOCAL_MIN_PERMILLE,
                .idle_floor = 0.5,
        };
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        free(*state);
        return 0;
}

static void fx_nodes(struct fx *f, size_t n, unsigned cpus, uint64_t mem_gib)
{
        f->n_nodes = n;
        for (size_t i = 0; i < n; i++)
                f->nodes[i] = (struct balance_node) {
                        .id = (unsigned) i, .cpus = cpus, .mem_total_mib = mem_gib * 1024,
                        .mem_free_mib = mem_gib * 1024,
                };
}

/* A VM with its CPUs on node (BALANCE_MAX_NODES: not placed) and all its
 * memory on mem_node. */
static struct balance_domain *fx_vm(struct fx *f, const char *name, unsigned node, double load,
                                    uint64_t mib, unsigned mem_node)
{
        struct balance_domain *d = &f->doms[f->n_doms];

        assert_true(f->n_doms < MAX_VMS);
        *d = (struct balance_domain) {
                .id = (unsigned) f->n_doms + 1, .name = name, .vcpus = 4, .load = load, .mem_size_mib = mib,
                .cpu_nodes = node < BALANCE_MAX_NODES ? BIT(node) : 0, .movable = true,
        };
        d->mem_mib[mem_node] = mib;
        f->n_doms++;
        return d;
}

/* nr_running and free memory from the VMs (a VM's load spread over its
 * nodes by CPUs, an unplaced one over all) plus background. */
static void fx_recompute(struct fx *f)
{
        for (size_t n = 0; n < f->n_nodes; n++) {
                f->nodes[n].nr_running = f->background[n];
                f->nodes[n].mem_free_mib = f->nodes[n].mem_total_mib;
        }
        for (size_t i = 0; i < f->n_doms; i++) {
                const struct balance_domain *d = &f->doms[i];
                uint64_t mask = d->cpu_nodes ? d->cpu_nodes : BIT(f->n_nodes) - 1;
                unsigned k = (unsigned) __builtin_popcountll(mask);

                for (size_t n = 0; n < f->n_nodes; n++) {
                        if (mask & BIT(n))
                                f->nodes[n].nr_running += d->load / k;
                        f->nodes[n].mem_free_mib -= d->mem_mib[n];
                }
        }
}

static int fx_plan(struct fx *f)
{
        struct balance_snapshot snap = { f->nodes, f->n_nodes, f->doms, f->n_doms };

        f->state.vms = f->vms;
        f->state.n_vms = f->n_doms;
        return balance_plan(&f->p, &snap, &f->state, &f->plan);
}

/* Carry the plan out as a mover would. */
static void fx_apply(struct fx *f)
{
        for (size_t k = 0; k < f->plan.n_moves; k++) {
                const struct balance_move *m = &f->plan.moves[k];
                struct balance_domain *d = &f->doms[m->domain];
                uint64_t left = m->migrate_mib;

                if (m->kind != BALANCE_MOVE_MEMORY)
                        d->cpu_nodes = m->to_nodes;
                for (unsigned n = 0; n < BALANCE_MAX_NODES && left; n++) {
                        uint64_t take;

                        if (m->to_nodes & BIT(n))
                                continue;
                        take = d->mem_mib[n] < left ? d->mem_mib[n] : left;
                        d->mem_mib[n] -= take;
                        d->mem_mib[__builtin_ctzll(m->to_nodes)] += take;
                        left -= take;
                }
        }
        fx_recompute(f);
}

static size_t count_kind(const struct fx *f, enum balance_move_kind kind)
{
        size_t n = 0;

        for (size_t k = 0; k < f->plan.n_moves; k++)
                n += f->plan.moves[k].kind == kind;
        return n;
}

static const struct balance_move *find_kind(const struct fx *f, enum balance_move_kind kind)
{
        for (size_t k = 0; k < f->plan.n_moves; k++)
                if (f->plan.moves[k].kind == kind)
                        return &f->plan.moves[k];
        return NULL;
}

/* Seed 004's log, first sample: node2 52 runnable, node3 29, 20 CPUs each. */
static void seed_host(struct fx *f)
{
        fx_nodes(f, 4, 20, 64);
        f->nodes[0].nr_running = 37;
        f->nodes[1].nr_running = 44;
        f->nodes[2].nr_running = 52;
        f->nodes[3].nr_running = 29;
}

static void test_trigger_follows_seed_rule_thresholds(void **state)
{
        struct fx *f = *state;

        assert_true(balance_trigger(&f->p, 52, 20, 29, 20));
        assert_false(balance_trigger(&f->p, 43, 20, 41, 20));   /* seed's last tick: ratio 1.05 */
        assert_false(balance_trigger(&f->p, 30, 20, 29, 20));   /* diff 1 < 2 */
        assert_false(balance_trigger(&f->p, 18, 20, 2, 20));    /* load_high 0.9 <= 1.0 */
        assert_true(balance_trigger(&f->p, 40, 20, 0, 20));     /* an idle node: infinite ratio */
        assert_false(balance_trigger(&f->p, 0, 20, 0, 20));
        assert_false(balance_trigger(&f->p, 24, 16, 12, 8));    /* loads, not counts: 1.5 vs 1.5 */
}

static void test_balanced_host_makes_no_move_and_says_why(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 20, 64);
        fx_vm(f, "vm1", 0, 4, 2048, 0);
        fx_vm(f, "vm2", 1, 4, 2048, 1);
        f->background[0] = 37;
        f->background[1] = 37;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_non_null(strstr(f->plan.reason, "balanced"));
        assert_non_null(strstr(f->plan.reason, "nr_running 41.0 vs 41.0"));
}

static void test_busiest_node_sheds_a_vm_cpus_first_to_idlest(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        /* 52 vs 29 on 20 CPUs: a load-4 VM leaves 48 vs 33, still over the
         * trigger, so probation has nothing to find out: its memory
         * follows at once, within the tick's budget (rule 4's exception). */
        seed_host(f);
        fx_vm(f, "vg-db0020", 2, 4, 2048, 2);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 2);
        m = &f->plan.moves[0];
        assert_int_equal(m->kind, BALANCE_MOVE_CPU);
        assert_int_equal(m->from_nodes, BIT(2));
        assert_int_equal(m->to_nodes, BIT(3));
        assert_int_equal(m->migrate_mib, 0);
        assert_non_null(strstr(m->reason, "nr_running 52.0 vs 29.0, load 2.60 vs 1.45 (ratio 1.79)"));
        assert_non_null(strstr(m->reason, "vg-db0020 load 4.0, 2.0 GiB to migrate now"));
        m = &f->plan.moves[1];
        assert_int_equal(m->kind, BALANCE_MOVE_MEMORY);
        assert_int_equal(m->to_nodes, BIT(3));
        assert_int_equal(m->migrate_mib, 1024);
        assert_int_equal(f->vms[0].phase, BALANCE_VM_SETTLED);
}

static void test_new_vm_is_placed_on_node_with_most_room(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 3, 16, 32);
        f->background[0] = 12;
        f->background[1] = 4;
        f->background[2] = 8;
        fx_vm(f, "new", BALANCE_MAX_NODES, 0, 2048, 0);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_PLACE);
        assert_non_null(m);
        assert_int_equal(m->to_nodes, BIT(1));
        assert_non_null(strstr(m->reason, "most room: load"));
        /* It counts as busy on its 4 vCPUs: a second new VM goes elsewhere. */
        fx_vm(f, "new2", BALANCE_MAX_NODES, 0, 2048, 0);
        memset(f->vms, 0, sizeof(f->vms));
        f->background[2] = 5;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_PLACE), 2);
        assert_int_not_equal(f->plan.moves[0].to_nodes, f->plan.moves[1].to_nodes);
}

static void test_new_vm_is_not_placed_where_memory_does_not_fit(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 2, 16, 32);
        f->background[0] = 8;
        fx_vm(f, "hog", BALANCE_MAX_NODES, 0, 30 * 1024, 1);  /* all its memory on the idle node */
        f->doms[0].movable = false;                           /* and it stays there */
        fx_vm(f, "new", BALANCE_MAX_NODES, 0, 4096, 0);
        f->doms[1].mem_mib[0] = 0;                /* nothing touched yet */
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_PLACE);
        assert_non_null(m);
        assert_int_equal(m->domain, 1);
        assert_int_equal(m->to_nodes, BIT(0));    /* busier, but its 4 GiB fit there */
}

static void test_vm_that_fits_nowhere_is_left_with_a_note(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 8);
        fx_vm(f, "huge", BALANCE_MAX_NODES, 1, 32 * 1024, 0);
        f->doms[0].mem_mib[0] = 1024;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_int_equal(f->plan.n_notes, 1);
        assert_non_null(strstr(f->plan.notes[0].reason, "huge not placed: needs 4 vCPUs and 32.0 GiB"));
}

static void test_never_moves_vm_whose_memory_does_not_fit(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 32);
        fx_vm(f, "big", 0, 6, 12 * 1024, 0);
        fx_vm(f, "hog", 1, 0.2, 24 * 1024, 1);
        f->background[0] = 14;
        fx_recompute(f);                          /* node1: 8 GiB free for a 12 GiB VM */
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_non_null(strstr(f->plan.reason, "memory would not fit"));
}

static void test_cheapest_vm_per_mib_is_chosen(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 20, 64);
        fx_vm(f, "fat", 0, 4, 8192, 0);
        fx_vm(f, "lean", 0, 4, 1024, 0);
        fx_vm(f, "far", 0, 4, 4096, 0);
        f->doms[2].mem_mib[0] = 512;              /* most of its memory is on the target already */
        f->doms[2].mem_mib[1] = 3584;
        f->background[0] = 20;
        f->background[1] = 10;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
        assert_string_equal(f->doms[find_kind(f, BALANCE_MOVE_CPU)->domain].name, "far");
}

static void test_overshooting_move_is_not_chosen(void **state)
{
        struct fx *f = *state;

        /* 24 vs 16 on 16 CPUs: a load-8 VM would leave 16 vs 24, the
         * reverse imbalance; a load-4 one leaves 20 vs 20. */
        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "huge", 0, 8, 1024, 0);
        fx_vm(f, "right", 0, 4, 4096, 0);
        f->background[0] = 12;
        f->background[1] = 16;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 1);
        assert_string_equal(f->doms[f->plan.moves[0].domain].name, "right");

        /* Only the overshooting one: no move, and the reason says so. */
        f->doms[1].cpu_nodes = BIT(1);
        f->doms[1].mem_mib[0] = 0;
        f->doms[1].mem_mib[1] = 4096;
        f->background[0] = 16;
        f->background[1] = 12;   /* 24 vs 16: huge would leave 16 vs 24 */
        f->doms[1].movable = false;   /* no swap with it either */
        memset(f->vms, 0, sizeof(f->vms));
        memset(&f->state, 0, sizeof(f->state));   /* a balancer new to this host */
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_non_null(strstr(f->plan.reason, "1 would overshoot"));
}

/* Hysteresis: 18 vs 15 on 16 CPUs, a lead of 3. A load-2.4 VM would leave
 * 15.6 vs 17.4, below the trigger but a lead of 1.8 the other way, more
 * than half of 3: it would invite the move back. A load-1.5 one halves
 * the lead. */
static void test_move_never_reverses_more_than_half_the_difference(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "too-big", 0, 2.4, 1024, 0);
        f->background[0] = 15.6;
        f->background[1] = 15;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_non_null(strstr(f->plan.reason, "1 would overshoot"));

        fx_vm(f, "half", 0, 1.5, 1024, 0);
        f->background[0] = 14.1;
        memset(f->vms, 0, sizeof(f->vms));
        memset(&f->state, 0, sizeof(f->state));
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 1);
        assert_string_equal(f->doms[f->plan.moves[0].domain].name, "half");
}

/* Probation judges with a lower bar than the trigger: node0 led by 2.1
 * (20 vs 17.9 on 16 CPUs), then node1 gets busier and the lead without
 * the move is 1.6, just below the trigger. Noise that small must not undo
 * the move. */
static void test_probation_keeps_move_when_imbalance_only_dips_below_trigger(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 1, 2048, 0);
        f->background[0] = 19;
        f->background[1] = 17.9;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
        f->background[1] = 18.4;
        fx_apply(f);
        for (int tick = 1; tick < 3; tick++) {
                assert_int_equal(fx_plan(f), 0);
                fx_apply(f);
        }
        assert_int_equal(fx_plan(f), 0);
        assert_null(find_kind(f, BALANCE_MOVE_REVERT));
        assert_non_null(find_kind(f, BALANCE_MOVE_MEMORY));
        assert_int_equal(f->vms[0].reverts, 0);
}

/* One load-4, 2 GiB VM on node0 of two 16-CPU nodes, the rest of their
 * load background: the probation tests' host. */
static void fx_one_vm(struct fx *f, double background0, double background1)
{
        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 4, 2048, 0);
        f->background[0] = background0;
        f->background[1] = background1;
        fx_recompute(f);
}

static void test_probation_moves_memory_only_after_probation(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        /* 18 vs 4 on 16 CPUs; 14 vs 8 after the move is below the trigger
         * (load 0.88): whether the move was needed is probation's to find */
        fx_one_vm(f, 14, 4);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
        /* then node0 calms down: without the move its smoothed load is at
         * most 1.0 (16 vs 4), the verdict's bar but not the whole
         * trigger's, so no early verdict */
        f->background[0] = 10;
        fx_apply(f);
        for (int tick = 1; tick < 3; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_null(find_kind(f, BALANCE_MOVE_MEMORY));
                assert_int_equal(f->vms[0].phase, BALANCE_VM_PROBATION);
                fx_apply(f);
        }
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_MEMORY);
        assert_non_null(m);
        assert_int_equal(m->to_nodes, BIT(1));
        assert_int_equal(m->migrate_mib, 1024);
        /* the means of the three ticks: (16 + 15 + 14.5) / 3 */
        assert_non_null(strstr(m->reason, "probation over: without it node0 would have nr_running 15.2 vs 4.0"));
        assert_int_equal(f->vms[0].phase, BALANCE_VM_SETTLED);
}

/* An imbalance that stays whole after the move, now and in the slow view
 * of a VM watched longer than a probation, has nothing more for probation
 * to show: the memory follows after one tick, not after probation_ticks of
 * the VM running remote. */
static void test_probation_ends_early_when_the_imbalance_stays_whole(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_one_vm(f, 14, 4);      /* 18 vs 4, and so it stays */
        assert_int_equal(fx_plan(f), 0);
        assert_non_null(strstr(find_kind(f, BALANCE_MOVE_CPU)->reason, "after probation"));
        fx_apply(f);
        /* as if the balancer had watched it probation_ticks ticks before */
        f->vms[0].load_samples = (uint64_t) f->p.probation_ticks;
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_MEMORY);
        assert_non_null(m);
        assert_non_null(strstr(m->reason, "probation over: without it node0 would have nr_running 18.0 vs 4.0"));
        assert_int_equal(f->vms[0].phase, BALANCE_VM_SETTLED);
        assert_int_equal(f->vms[0].probation_ticks, 1);
}

/* A VM watched longer than a probation, moved off a steady imbalance: no
 * probation at all. A VM just seen gets one (the test above): its slow
 * average is no longer a view than the probation's. */
static void test_steady_imbalance_moves_memory_with_the_cpus(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m = NULL;

        fx_one_vm(f, 4, 4);       /* 8 vs 4: quiet while the balancer watches */
        for (long tick = 0; tick <= f->p.probation_ticks; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_int_equal(f->plan.n_moves, 0);
        }
        f->background[0] = 14;    /* then 18 vs 4, and so it stays */
        fx_recompute(f);
        for (int tick = 0; tick < 6 && !m; tick++) {
                assert_int_equal(fx_plan(f), 0);
                m = find_kind(f, BALANCE_MOVE_CPU);
        }
        assert_non_null(m);
        assert_non_null(strstr(m->reason, "2.0 GiB to migrate now"));
        assert_non_null(find_kind(f, BALANCE_MOVE_MEMORY));
        assert_int_equal(f->vms[0].phase, BALANCE_VM_SETTLED);
}

static void test_probation_reverts_cpus_when_imbalance_vanishes(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "mover", 0, 4, 2048, 0);
        fx_vm(f, "burst", 0, 14, 1024, 0);
        f->doms[1].movable = false;
        fx_recompute(f);                          /* 18 vs 0 */
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.moves[0].domain, 0);
        f->doms[1].load = 0.5;                    /* the burst is over */
        fx_apply(f);
        for (int tick = 1; tick < 3; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_int_equal(f->plan.n_moves, 0);
                fx_apply(f);
        }
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_REVERT);
        assert_non_null(m);
        assert_int_equal(m->from_nodes, BIT(1));
        assert_int_equal(m->to_nodes, BIT(0));
        assert_non_null(strstr(m->reason, "imbalance gone after 3 ticks"));
        assert_null(find_kind(f, BALANCE_MOVE_MEMORY));   /* its memory never left */
        assert_int_equal(f->vms[0].reverts, 1);
        assert_int_equal(f->vms[0].home, BIT(0));
}

static void test_memory_follows_cpus_rate_limited_over_ticks(void **state)
{
        struct fx *f = *state;
        uint64_t moved = 0;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 1, 2, 3 * 1024, 0);        /* CPUs on node1, all memory on node0 */
        fx_recompute(f);
        for (int tick = 0; tick < 5; tick++) {
                const struct balance_move *m;

                assert_int_equal(fx_plan(f), 0);
                m = find_kind(f, BALANCE_MOVE_MEMORY);
                if (!m)
                        break;
                assert_true(m->migrate_mib <= 1024);
                assert_int_equal(m->to_nodes, BIT(1));
                moved += m->migrate_mib;
                fx_apply(f);
        }
        assert_int_equal(moved, 3 * 1024);
        assert_int_equal(f->doms[0].mem_mib[1], 3 * 1024);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);     /* local now: nothing more */
}

/* A memory move of VM id 7 at index 1, for balance_record_result(). */
static const struct balance_move memory_move = {
        .kind = BALANCE_MOVE_MEMORY, .domain = 1, .domain_id = 7, .from_nodes = BIT(0), .to_nodes = BIT(1),
        .migrate_mib = 512,
};

/* Rule 5 at the mover's pace: the tick's budget is what the measured rate
 * copies in BALANCE_MIGRATE_TICK_SHARE of the interval, at most the cap,
 * and the old default before any move measured it. The plan says which
 * limit held. */
static void test_memory_budget_follows_the_measured_rate(void **state)
{
        struct fx *f = *state;
        struct balance_vm vms[2] = { { .id = 3 }, { .id = 7, .migrating = true } };
        struct balance_state st = { .vms = vms, .n_vms = 2 };
        struct balance_params p = f->p;
        char why[BALANCE_REASON_MAX];
        const struct balance_move *m;

        p.max_migrate_mib_per_tick = 2048;
        p.interval_sec = 5;
        assert_true(balance_migrate_budget_mib(&p, &st) == BALANCE_MIGRATE_UNMEASURED_MIB);
        /* 1 GiB in 4 s: 256 MiB/s, 1024 MiB in 80 % of 5 s */
        (void) balance_record_result(&st, &memory_move,
                                     &(struct balance_result) { .migrated_mib = 1024, .elapsed_usec = 4000000 }, why,
                                     sizeof(why));
        assert_true(st.migrate_mib_per_sec == 256);
        assert_true(balance_migrate_budget_mib(&p, &st) == 1024);
        /* smoothed: 2 GiB in 2 s moves the rate 30 % of the way to 1024 */
        (void) balance_record_result(&st, &memory_move,
                                     &(struct balance_result) { .migrated_mib = 2048, .elapsed_usec = 2000000 }, why,
                                     sizeof(why));
        assert_true(fabs(st.migrate_mib_per_sec - 486.4) < 1e-9);
        assert_true(balance_migrate_budget_mib(&p, &st) == 1945);
        /* a small move (fixed costs), a failed one, a dry run: no lesson */
        (void) balance_record_result(&st, &memory_move,
                                     &(struct balance_result) { .migrated_mib = 32, .elapsed_usec = 1000000 }, why,
                                     sizeof(why));
        (void) balance_record_result(&st, &memory_move,
                                     &(struct balance_result) { .error = -EIO, .migrated_mib = 512, .elapsed_usec = 1 },
                                     why, sizeof(why));
        (void) balance_record_result(&st, &memory_move,
                                     &(struct balance_result) { .dry_run = true, .migrated_mib = 512, .elapsed_usec = 1 },
                                     why, sizeof(why));
        assert_true(fabs(st.migrate_mib_per_sec - 486.4) < 1e-9);
        /* a fast mover: the cap holds */
        st.migrate_mib_per_sec = 10000;
        assert_true(balance_migrate_budget_mib(&p, &st) == 2048);

        /* the plan: a 3 GiB VM's memory at 100 MiB/s moves 400 MiB a tick, and says why */
        f->p = p;
        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 1, 2, 3 * 1024, 0);
        fx_recompute(f);
        f->state.migrate_mib_per_sec = 100;
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_MEMORY);
        assert_non_null(m);
        assert_int_equal(m->migrate_mib, 400);
        assert_non_null(strstr(m->reason, "moving 400 MiB now (limit 400 MiB this tick: 100 MiB/s measured)"));
}

/* The slow average is a plain mean until it has 1/BALANCE_LOAD_SLOW_ALPHA
 * samples: a VM first seen in a burst does not keep the burst's load in
 * its slow view for an hour. */
static void test_slow_average_of_a_new_vm_is_its_mean_so_far(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 4, 1024, 0);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_true(f->vms[0].load_slow == 4);
        f->doms[0].load = 0;
        for (int tick = 0; tick < 3; tick++)
                assert_int_equal(fx_plan(f), 0);
        assert_true(fabs(f->vms[0].load_slow - 1.0) < 1e-9);   /* (4 + 0 + 0 + 0) / 4 */
        assert_int_equal(f->vms[0].load_samples, 4);
}

/* Rule 5's order: a busy 8 GiB VM and a light 512 MiB one both wait for
 * their memory. The small one gets all it needs at once, and the big one
 * (waiting as long, listed first) still moves the rest of the budget: the
 * busiest VM no longer takes it all. */
static void test_small_vm_memory_is_not_queued_behind_a_big_one(void **state)
{
        struct fx *f = *state;
        const struct balance_move *big = NULL, *small = NULL;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "big", 1, 3, 8 * 1024, 0);
        fx_vm(f, "small", 1, 0.5, 512, 0);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        for (size_t k = 0; k < f->plan.n_moves; k++) {
                const struct balance_move *m = &f->plan.moves[k];

                if (m->kind == BALANCE_MOVE_MEMORY && m->domain == 0)
                        big = m;
                if (m->kind == BALANCE_MOVE_MEMORY && m->domain == 1)
                        small = m;
        }
        assert_non_null(small);
        assert_int_equal(small->migrate_mib, 512);
        assert_non_null(big);
        assert_int_equal(big->migrate_mib, 512);
}

/* Rule 5's urgency: three VMs homed on node0, each with 1 GiB to bring
 * home, the budget 1 GiB. The one listed first (all waited as long) gets
 * its share, a third; the rest goes to the VM whose pages are farthest
 * (distance 32: each remote access costs it most), whole, before the one
 * at distance 20; so VMs finish one by one instead of all running remote. */
static void test_memory_of_the_vm_losing_most_goes_first(void **state)
{
        struct fx *f = *state;
        const struct balance_move *mv[3] = {};

        fx_nodes(f, 3, 16, 64);
        for (unsigned a = 0; a < 3; a++)
                for (unsigned b = 0; b < 3; b++)
                        f->nodes[a].distance[b] = a == b ? 10 : (a + b == 2 ? 32 : 20);
        fx_vm(f, "first", 0, 1, 1024, 1);
        fx_vm(f, "near", 0, 1, 1024, 1);
        fx_vm(f, "far", 0, 1, 1024, 2);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        for (size_t k = 0; k < f->plan.n_moves; k++)
                if (f->plan.moves[k].kind == BALANCE_MOVE_MEMORY)
                        mv[f->plan.moves[k].domain] = &f->plan.moves[k];
        assert_non_null(mv[0]);
        assert_int_equal(mv[0]->migrate_mib, 1024 / 3);
        assert_non_null(mv[2]);
        assert_int_equal(mv[2]->migrate_mib, 1024 - 1024 / 3);
        assert_null(mv[1]);
}

static void test_mostly_local_vm_memory_is_left_alone(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 1, 2, 3 * 1024, 1);
        f->doms[0].mem_mib[0] = 1024;             /* 1 of 4 GiB elsewhere: not "most" */
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
}

static void test_vm_bigger_than_node_spans_fewest_closest_nodes(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        /* Two sockets: {0,1} and {2,3} at distance 12, 20 across. */
        fx_nodes(f, 4, 16, 64);
        for (unsigned a = 0; a < 4; a++)
                for (unsigned b = 0; b < 4; b++)
                        f->nodes[a].distance[b] = a == b ? 10 : (a / 2 == b / 2 ? 12 : 20);
        f->background[0] = 10;
        f->background[2] = 2;
        f->background[3] = 3;
        fx_vm(f, "big", BALANCE_MAX_NODES, 0, 96 * 1024, 0);
        f->doms[0].mem_mib[0] = 0;
        f->doms[0].vcpus = 24;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_PLACE);
        assert_non_null(m);
        assert_int_equal(m->to_nodes, BIT(2) | BIT(3));   /* not {1,2}: idle, but across sockets */
        assert_non_null(strstr(m->reason, "bigger than one node"));
}

static void test_pinned_vm_is_never_moved(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "pinned", 0, 8, 2048, 1);        /* busy and its memory remote */
        fx_vm(f, "excluded", BALANCE_MAX_NODES, 4, 2048, 0);
        f->doms[0].movable = f->doms[1].movable = false;
        f->doms[0].not_movable_reason = "pinned by <vcpupin>";
        f->background[0] = 16;
        fx_recompute(f);
        for (int tick = 0; tick < 5; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_int_equal(f->plan.n_moves, 0);
        }
        assert_non_null(strstr(f->plan.reason, "1 not movable"));
}

static void fx_settled(struct fx *f, size_t i, unsigned on, double load_avg, double load_slow)
{
        f->vms[i] = (struct balance_vm) {
                .id = f->doms[i].id, .phase = BALANCE_VM_SETTLED, .home = BIT(on), .ticks_since_move = 100,
                .has_load_avg = true, .load_avg = load_avg, .load_slow = load_slow,
                .load_samples = 1000,   /* hours of history */
        };
}

static void test_cooldown_prevents_ping_pong(void **state)
{
        struct fx *f = *state;

        f->p.probation_ticks = 0;
        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 4, 2048, 0);
        f->background[0] = 20;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
        fx_apply(f);
        /* The load swings the other way: the VM is where the work is now. */
        f->background[0] = 2;
        f->background[1] = 20;
        fx_recompute(f);
        for (long tick = 1; tick < f->p.cooldown_ticks; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_null(find_kind(f, BALANCE_MOVE_CPU));
                fx_apply(f);
        }
        assert_non_null(strstr(f->plan.reason, "in cooldown"));
        /* Back where it came from only after BALANCE_RETURN_COOLDOWNS
         * cooldowns: the churn scenario moved a VM node2 -> node3 -> node2
         * -> node3 within 44 ticks, each time a cooldown apart. */
        for (long tick = f->p.cooldown_ticks; tick < BALANCE_RETURN_COOLDOWNS * f->p.cooldown_ticks; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_null(find_kind(f, BALANCE_MOVE_CPU));
                assert_non_null(strstr(f->plan.reason, "would go back where it came from"));
                fx_apply(f);
        }
        assert_int_equal(fx_plan(f), 0);
        assert_non_null(find_kind(f, BALANCE_MOVE_CPU));  /* then it may */
        assert_int_equal(f->vms[0].moves, 2);
}

/* A third node is not "back": after the cooldown the VM may go on. */
static void test_vm_may_move_on_to_a_third_node_after_cooldown(void **state)
{
        struct fx *f = *state;

        f->p.probation_ticks = 0;
        fx_nodes(f, 3, 16, 64);
        fx_vm(f, "vm", 1, 4, 2048, 1);
        fx_settled(f, 0, 1, 4, 4);
        f->vms[0].prev = BIT(0);
        f->vms[0].ticks_since_move = f->p.cooldown_ticks;
        f->background[1] = 20;
        f->background[0] = 20;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_non_null(find_kind(f, BALANCE_MOVE_CPU));
        assert_int_equal(find_kind(f, BALANCE_MOVE_CPU)->to_nodes, BIT(2));
}

static void test_no_more_than_max_moves_per_tick(void **state)
{
        struct fx *f = *state;

        f->p.max_moves_per_tick = 2;
        fx_nodes(f, 2, 16, 64);
        for (int k = 0; k < 8; k++)
                fx_vm(f, "vm", 0, 4, 1024, 0);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 2);
        assert_non_null(strstr(f->plan.reason, "max_moves_per_tick (2) reached"));
        f->p.max_moves_per_tick = 0;
        memset(f->vms, 0, sizeof(f->vms));
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
}

static void test_swap_when_no_single_move_helps(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        /* 24 vs 16: a load-6 VM would leave 18 vs 22, the reverse
         * imbalance; swapping it for a load-2 VM leaves 20 vs 20. */
        fx_nodes(f, 2, 16, 64);
        for (int k = 0; k < 4; k++)
                fx_vm(f, "six", 0, 6, 2048, 0);
        fx_vm(f, "two", 1, 2, 1024, 1);
        fx_vm(f, "two", 1, 2, 1024, 1);
        fx_vm(f, "six", 1, 6, 2048, 1);
        fx_vm(f, "six", 1, 6, 2048, 1);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_SWAP), 2);
        m = find_kind(f, BALANCE_MOVE_SWAP);
        assert_non_null(strstr(m->reason, "swap six (load 6.0) with two (load 2.0): net 4.0"));
        assert_int_equal(f->plan.moves[0].to_nodes, BIT(1));
        assert_int_equal(f->plan.moves[1].to_nodes, BIT(0));
        fx_apply(f);
        assert_true(f->nodes[0].nr_running == 20 && f->nodes[1].nr_running == 20);
}

static void test_vm_moved_by_someone_else_is_followed(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 1, 1024, 0);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->vms[0].home, BIT(0));
        f->doms[0].cpu_nodes = BIT(1);            /* virsh vcpupin, or a move that failed */
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->vms[0].home, BIT(1));
        assert_int_equal(f->plan.n_notes, 1);
        assert_non_null(strstr(f->plan.notes[0].reason, "vm: CPUs on node1, not on node0"));
}

static void test_seed_rule_moves_first_vm_listed_with_all_its_memory(void **state)
{
        struct fx *f = *state;
        struct balance_snapshot snap;

        seed_host(f);
        fx_vm(f, "vg-db0030", 0, 4, 2048, 0);
        fx_vm(f, "vg-db0020", 2, 4, 2048, 2);
        fx_vm(f, "vg-db0006", 2, 4, 1024, 2);
        snap = (struct balance_snapshot) { f->nodes, f->n_nodes, f->doms, f->n_doms };
        assert_int_equal(balance_seed_rule_plan(&f->p, &snap, &f->plan), 0);
        assert_int_equal(f->plan.n_moves, 1);
        assert_int_equal(f->plan.moves[0].domain, 1);
        assert_int_equal(f->plan.moves[0].to_nodes, BIT(3));
        assert_int_equal(f->plan.moves[0].migrate_mib, 2048);
        assert_non_null(strstr(f->plan.moves[0].reason, "moving [vg-db0020] from node [node2] to node [node3]"));

        f->nodes[2].nr_running = 43;              /* the seed's last tick: ratio 1.05 */
        f->nodes[3].nr_running = 41;
        f->nodes[0].nr_running = f->nodes[1].nr_running = 41;
        assert_int_equal(balance_seed_rule_plan(&f->p, &snap, &f->plan), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_non_null(strstr(f->plan.reason, "nr_running_high[43.0]"));
}

static void test_bad_snapshot_is_rejected_and_state_untouched(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 1, 1024, 0);
        f->nodes[1].id = 0;                       /* the same node twice */
        assert_int_equal(fx_plan(f), -EINVAL);
        assert_int_equal(f->state.tick, 0);
        f->nodes[1].id = 1;
        f->nodes[1].cpus = 0;
        assert_int_equal(fx_plan(f), -EINVAL);
        f->nodes[1].cpus = 16;
        f->nodes[1].id = BALANCE_MAX_NODES;
        assert_int_equal(fx_plan(f), -EINVAL);
        f->nodes[1].id = 1;
        f->state.n_vms = 0;
        assert_int_equal(balance_plan(&f->p, &(struct balance_snapshot) { f->nodes, 2, f->doms, 1 },
                                      &f->state, &f->plan), -EINVAL);
        assert_int_equal(f->state.tick, 0);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->state.tick, 1);
}

static void test_single_node_host_has_nothing_to_balance(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 1, 16, 64);
        fx_vm(f, "vm", BALANCE_MAX_NODES, 30, 1024, 0);
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_string_equal(f->plan.reason, "one NUMA node: nothing to balance");
}

/* --- a move's outcome: balance_record_result() ----------------------------------- */

static void test_memory_move_that_migrated_nothing_stops_the_chase_and_says_why(void **state)
{
        struct balance_vm vms[2] = {
                { .id = 3, .phase = BALANCE_VM_SETTLED, .home = BIT(0), .migrating = true },
                { .id = 7, .phase = BALANCE_VM_SETTLED, .home = BIT(1), .migrating = true },
        };
        struct balance_state st = { .tick = 5, .vms = vms, .n_vms = 2 };
        char why[BALANCE_REASON_MAX];

        /* pinned pages: the mover saw memory elsewhere it could not move */
        assert_true(balance_record_result(&st, &memory_move, &(struct balance_result) { .remote_mib = 300 }, why,
                                          sizeof(why)));
        assert_false(vms[1].migrating);
        assert_true(vms[0].migrating);          /* the other VM is not touched */
        assert_non_null(strstr(why, "300 MiB of its memory stay elsewhere and did not move (unmovable pages)"));
        assert_non_null(strstr(why, "not trying again unless most of its memory is elsewhere"));

        /* nothing of the process elsewhere: the rest is the cgroup's count */
        vms[1].migrating = true;
        assert_true(balance_record_result(&st, &memory_move, &(struct balance_result) { .remote_mib = 0 }, why,
                                          sizeof(why)));
        assert_false(vms[1].migrating);
        assert_non_null(strstr(why, "none of its QEMU's own memory is elsewhere"));

        /* a CPU move that carried memory along counts the same */
        vms[1].migrating = true;
        assert_true(balance_record_result(&st, &(struct balance_move) { .kind = BALANCE_MOVE_CPU, .domain = 1,
                                                                         .domain_id = 7, .migrate_mib = 64 },
                                          &(struct balance_result) { .remote_mib = 64 }, why, sizeof(why)));
        assert_false(vms[1].migrating);
        assert_int_equal(st.tick, 5);
}

static void test_move_outcome_that_teaches_nothing_leaves_the_state_alone(void **state)
{
        struct balance_vm vms[2] = {
                { .id = 3, .phase = BALANCE_VM_SETTLED, .home = BIT(0) },
                { .id = 7, .phase = BALANCE_VM_SETTLED, .home = BIT(1), .migrating = true },
        };
        struct balance_state st = { .vms = vms, .n_vms = 2 };
        const struct balance_result stuck = { .remote_mib = 300 };
        struct balance_move m;
        char why[BALANCE_REASON_MAX] = "untouched";

        /* memory moved: still following */
        assert_false(balance_record_result(&st, &memory_move, &(struct balance_result) { .migrated_mib = 1 }, why,
                                           sizeof(why)));
        /* failed or dry run: the next snapshot shows where things are */
        assert_false(balance_record_result(&st, &memory_move, &(struct balance_result) { .error = -EIO }, why,
                                           sizeof(why)));
        assert_false(balance_record_result(&st, &memory_move, &(struct balance_result) { .dry_run = true }, why,
                                           sizeof(why)));
        /* a CPU move without memory was never to migrate any */
        m = (struct balance_move) { .kind = BALANCE_MOVE_CPU, .domain = 1, .domain_id = 7 };
        assert_false(balance_record_result(&st, &m, &stuck, why, sizeof(why)));
        /* another domain at that index now, or no such index */
        m = memory_move;
        m.domain_id = 8;
        assert_false(balance_record_result(&st, &m, &stuck, why, sizeof(why)));
        m = memory_move;
        m.domain = 2;
        assert_false(balance_record_result(&st, &m, &stuck, why, sizeof(why)));
        assert_true(vms[1].migrating);
        /* a VM whose memory was not following anything */
        m = memory_move;
        m.domain = 0;
        m.domain_id = 3;
        assert_false(balance_record_result(&st, &m, &stuck, why, sizeof(why)));
        assert_false(vms[0].migrating);
        assert_string_equal(why, "untouched");
}

/* The balancer used to ask every tick for memory that did not move; after
 * the outcome is recorded, rule 5 asks again only once most of the VM's
 * memory is elsewhere. */
static void test_stuck_memory_is_asked_for_again_only_when_most_is_elsewhere(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;
        char why[BALANCE_REASON_MAX];

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "vm", 0, 1, 1024, 0);
        f->doms[0].mem_mib[0] = 700;
        f->doms[0].mem_mib[1] = 324;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_MEMORY), 0);  /* 68 % local: left alone */
        f->vms[0].migrating = true;                               /* as after a move of its CPUs */
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_MEMORY);
        assert_non_null(m);
        assert_int_equal(m->migrate_mib, 324);
        assert_true(balance_record_result(&f->state, m, &(struct balance_result) { .remote_mib = 324 }, why,
                                          sizeof(why)));
        for (int tick = 0; tick < 3; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_int_equal(count_kind(f, BALANCE_MOVE_MEMORY), 0);
        }
        f->doms[0].mem_mib[0] = 400;                              /* most of it elsewhere now */
        f->doms[0].mem_mib[1] = 624;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_MEMORY), 1);
}

/* A VM that has run on node `on` for a long time, with these averages. */

/* A VM whose last interval was idle (an office VM at nightfall) still has
 * a smoothed load of 2.5; moving it fixes nothing: the day-night scenario
 * moved such VMs at every nightfall and back the next morning. */
/* Rule 1 with hysteresis: a node over the trigger for one tick only (a
 * burst of seconds) moves nothing; one still over it the next tick does. */
static void test_imbalance_must_persist_a_tick_before_a_move(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "a", 0, 4, 1024, 0);
        fx_vm(f, "b", 1, 4, 1024, 1);
        f->background[0] = 10;
        f->background[1] = 10;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        /* a burst: node0 at 30 vs 14, smoothed 22 vs 14 meets the trigger */
        f->background[0] = 26;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 0);
        assert_non_null(strstr(f->plan.reason, "passing: busiest node0 -> node1: nr_running 22.0 vs 14.0"));
        /* still there a tick later: now it moves */
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
}

/* Rule 1 with the slow view: node0's VMs are busy now but idle over time
 * (bursts), node1's steady: 12 vs 2 meets the trigger tick after tick, but
 * with every VM at its slow average the nodes are even, so nothing moves,
 * and the plan says why. */
static void test_burst_on_vms_idle_over_time_moves_nothing(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 8, 64);
        for (unsigned k = 0; k < 4; k++)
                fx_vm(f, "burst", 0, 3, 1024, 0);
        for (unsigned k = 0; k < 4; k++)
                fx_vm(f, "steady", 1, 0.5, 1024, 1);
        for (size_t i = 0; i < 8; i++)
                fx_settled(f, i, i < 4 ? 0 : 1, f->doms[i].load, 0.5);
        fx_recompute(f);
        for (int tick = 0; tick < 3; tick++) {
                assert_int_equal(fx_plan(f), 0);
                assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 0);
                assert_non_null(strstr(f->plan.reason, "passing: busiest node0 -> node1: nr_running 12.0 vs 2.0"));
        }
}

/* A VM whose last interval was idle (an office VM at nightfall) still has
 * a smoothed load of 2.5; moving it fixes nothing: the day-night scenario
 * moved such VMs at every nightfall and back the next morning. */
static void test_vm_just_gone_idle_is_not_moved(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "office", 0, 0.1, 1024, 0);
        fx_settled(f, 0, 0, 5.0, 2.5);
        f->background[0] = 20;
        f->background[1] = 10;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(f->plan.n_moves, 0);
        assert_non_null(strstr(f->plan.reason, "1 too idle to help"));
}

/* Rule 3's longer view: two VMs as busy now, one of them busy only lately
 * (slow average 0.5). Over time node0 leads only a little (a VM on node1
 * idle now runs at 3 on average: 18.5 vs 17, still enough for rule 1's
 * slow view), so moving the steady VM would help now and reverse the
 * balance over time; the passing one is moved. */
static void test_move_is_judged_on_the_slow_average_too(void **state)
{
        struct fx *f = *state;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "steady", 0, 2.0, 1024, 0);
        fx_vm(f, "passing", 0, 2.0, 1024, 0);
        fx_vm(f, "sleeper", 1, 0.1, 1024, 1);
        fx_settled(f, 0, 0, 2.0, 2.0);
        fx_settled(f, 1, 0, 2.0, 0.5);
        fx_settled(f, 2, 1, 0.1, 3.0);
        f->background[0] = 16;
        f->background[1] = 14;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
        assert_string_equal(f->doms[find_kind(f, BALANCE_MOVE_CPU)->domain].name, "passing");
}

/* The share-group fixtures: the first on_node0 VMs settled on node0, the
 * rest on node1, node0 busier; plans and returns the one CPU move. */
static const struct balance_move *plan_busy_node0_move(struct fx *f, size_t on_node0)
{
        const struct balance_move *m;

        for (size_t i = 0; i < f->n_doms; i++)
                fx_settled(f, i, i < on_node0 ? 0 : 1, f->doms[i].load, f->doms[i].load);
        f->background[0] = 16;
        f->background[1] = 12;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_CPU);
        assert_non_null(m);
        return m;
}

/* KSM groups: node0 leads; "stranger" and "clone" are alike, but clone's
 * twin (same share_group) runs on node1. The clone joins it: listed
 * second, it would lose the tie without the group. */
static void test_vm_joins_vms_sharing_its_pages(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "stranger", 0, 3, 2048, 0);
        fx_vm(f, "clone", 0, 3, 2048, 0)->share_group = 7;
        fx_vm(f, "twin", 1, 1, 2048, 1)->share_group = 7;
        m = plan_busy_node0_move(f, 2);
        assert_string_equal(f->doms[m->domain].name, "clone");
        assert_non_null(strstr(m->reason, "joins 1 VM sharing pages"));
}

/* The second clone to leave a node follows the first: it leaves two of
 * its group and joins one, and the plan says it joins it (it said nothing
 * when it left more than it joined). */
static void test_vm_that_follows_a_clone_says_it_joins_it(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 2, 16, 64);
        for (unsigned k = 0; k < 3; k++)
                fx_vm(f, "clone", 0, 3, 2048, 0)->share_group = 7;
        fx_vm(f, "first", 1, 1, 2048, 1)->share_group = 7;
        m = plan_busy_node0_move(f, 3);
        assert_int_equal(m->to_nodes, BIT(1));
        assert_non_null(strstr(m->reason, "joins 1 VM sharing pages"));
}

/* A group stays together where another move helps nearly as much: two
 * clones and a stranger on node0, the stranger's move a little worse
 * (more memory), and the plan says why the clone stayed. */
static void test_group_is_kept_together_when_it_costs_little_and_the_plan_says_so(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "clone1", 0, 3, 2048, 0)->share_group = 5;
        fx_vm(f, "clone2", 0, 3, 2048, 0)->share_group = 5;
        fx_vm(f, "stranger", 0, 3, 2560, 0);
        for (size_t i = 0; i < 3; i++)
                fx_settled(f, i, 0, 3, 3);
        f->background[0] = 11;
        f->background[1] = 12;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_CPU);
        assert_non_null(m);
        assert_string_equal(f->doms[m->domain].name, "stranger");
        assert_int_equal(f->plan.n_notes, 1);
        assert_string_equal(f->plan.notes[0].reason,
                            "clone1 kept on node0 with 1 VM sharing pages; stranger moved instead");

        /* Without the stranger a clone still moves: the group never
         * blocks the balance. */
        f->n_doms = 2;
        memset(f->vms, 0, sizeof(f->vms));
        memset(&f->state, 0, sizeof(f->state));
        for (size_t i = 0; i < 2; i++)
                fx_settled(f, i, 0, 3, 3);
        f->background[0] = 14;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        assert_int_equal(count_kind(f, BALANCE_MOVE_CPU), 1);
}

/* Placement: a new clone goes where its group runs when that node is
 * nearly as good (BALANCE_SHARE_PLACE_SLACK), not when it is much busier. */
static void test_new_vm_is_placed_with_its_group_when_nearly_as_good(void **state)
{
        struct fx *f = *state;
        const struct balance_move *m;

        fx_nodes(f, 2, 16, 64);
        fx_vm(f, "base", 1, 1, 2048, 1)->share_group = 9;
        fx_vm(f, "clone", BALANCE_MAX_NODES, 0, 2048, 0)->share_group = 9;
        fx_settled(f, 0, 1, 1, 1);
        f->background[0] = 4;
        f->background[1] = 4;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_PLACE);
        assert_non_null(m);
        assert_int_equal(m->to_nodes, BIT(1));
        assert_non_null(strstr(m->reason, "with 1 VM sharing pages"));

        f->doms[1].cpu_nodes = 0;
        memset(&f->vms[1], 0, sizeof(f->vms[1]));
        memset(&f->state, 0, sizeof(f->state));
        f->vms[0].phase = BALANCE_VM_SETTLED;
        f->background[1] = 8;
        fx_recompute(f);
        assert_int_equal(fx_plan(f), 0);
        m = find_kind(f, BALANCE_MOVE_PLACE);
        assert_non_null(m);
        assert_int_equal(m->to_nodes, BIT(0));
        assert_non_null(strstr(m->reason, "most room"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_trigger_follows_seed_rule_thresholds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_balanced_host_makes_no_move_and_says_why, setup, teardown),
                cmocka_unit_test_setup_teardown(test_busiest_node_sheds_a_vm_cpus_first_to_idlest, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_vm_is_placed_on_node_with_most_room, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_vm_is_not_placed_where_memory_does_not_fit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_that_fits_nowhere_is_left_with_a_note, setup, teardown),
                cmocka_unit_test_setup_teardown(test_never_moves_vm_whose_memory_does_not_fit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cheapest_vm_per_mib_is_chosen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_overshooting_move_is_not_chosen, setup, teardown),
                cmocka_unit_test_setup_teardown(test_move_never_reverses_more_than_half_the_difference, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probation_keeps_move_when_imbalance_only_dips_below_trigger, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_probation_moves_memory_only_after_probation, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probation_ends_early_when_the_imbalance_stays_whole, setup, teardown),
                cmocka_unit_test_setup_teardown(test_steady_imbalance_moves_memory_with_the_cpus, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probation_reverts_cpus_when_imbalance_vanishes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_follows_cpus_rate_limited_over_ticks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_small_vm_memory_is_not_queued_behind_a_big_one, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_of_the_vm_losing_most_goes_first, setup, teardown),
                cmocka_unit_test_setup_teardown(test_mostly_local_vm_memory_is_left_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_bigger_than_node_spans_fewest_closest_nodes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pinned_vm_is_never_moved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cooldown_prevents_ping_pong, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_may_move_on_to_a_third_node_after_cooldown, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_more_than_max_moves_per_tick, setup, teardown),
                cmocka_unit_test_setup_teardown(test_swap_when_no_single_move_helps, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_moved_by_someone_else_is_followed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_seed_rule_moves_first_vm_listed_with_all_its_memory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_snapshot_is_rejected_and_state_untouched, setup, teardown),
                cmocka_unit_test_setup_teardown(test_single_node_host_has_nothing_to_balance, setup, teardown),
                cmocka_unit_test(test_memory_move_that_migrated_nothing_stops_the_chase_and_says_why),
                cmocka_unit_test(test_move_outcome_that_teaches_nothing_leaves_the_state_alone),
                cmocka_unit_test_setup_teardown(test_stuck_memory_is_asked_for_again_only_when_most_is_elsewhere, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_imbalance_must_persist_a_tick_before_a_move, setup, teardown),
                cmocka_unit_test_setup_teardown(test_burst_on_vms_idle_over_time_moves_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_memory_budget_follows_the_measured_rate, setup, teardown),
                cmocka_unit_test_setup_teardown(test_slow_average_of_a_new_vm_is_its_mean_so_far, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_just_gone_idle_is_not_moved, setup, teardown),
                cmocka_unit_test_setup_teardown(test_move_is_judged_on_the_slow_average_too, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_joins_vms_sharing_its_pages, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vm_that_follows_a_clone_says_it_joins_it, setup, teardown),
                cmocka_unit_test_setup_teardown(test_group_is_kept_together_when_it_costs_little_and_the_plan_says_so,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_vm_is_placed_with_its_group_when_nearly_as_good, setup,
                                                teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
