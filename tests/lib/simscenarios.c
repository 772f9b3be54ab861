/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The simulator's scenarios (see tests/bench/README.md for what each one asks
 * of a balancer). Seed 004's two cases use its host and its VMs' names and
 * layout, so the seed rule moves the same VMs its log shows. */
#include <math.h>
#include <stdio.h>

#include "simmodel.h"

/* Seed 004's first sample: which vg-db VMs its random placement put where,
 * in the order the balancer listed them. */
static const unsigned seed_layout[4][13] = {
        { 30, 38, 16, 2, 26, 37, 23, 28, 10 },
        { 18, 3, 36, 7, 4, 14, 27, 11, 12, 21, 35 },
        { 20, 6, 32, 17, 1, 34, 24, 19, 31, 40, 15, 5, 8 },
        { 22, 39, 25, 13, 9, 33, 29 },
};

static void put(struct sim_vm *vm, unsigned node)
{
        vm->cpu_nodes = BALANCE_NODE_BIT(node);
        vm->resident[node] = vm->mem_size_mib;
}

/* 4 nodes x 20 CPUs (4 x Westmere-EX, 80 threads), dbench VMs of 4 vCPUs
 * and 2 GiB, busy on all vCPUs plus an emulator thread now and then. */
static void build_seed(struct sim_host *h, unsigned n_nodes_used)
{
        sim_host_init(h, 4, 20, 64, 4);
        for (unsigned n = 0; n < n_nodes_used; n++)
                for (unsigned k = 0; k < 13 && seed_layout[n][k]; k++) {
                        char name[32];
                        struct sim_vm *vm;

                        snprintf(name, sizeof(name), "vg-db%04u", seed_layout[n][k]);
                        vm = sim_host_add_vm(h, name, 4, 2, 4.0);
                        vm->jitter = 0.3;
                        put(vm, n);
                }
}

static void build_seed40(struct sim_host *h)
{
        build_seed(h, 4);
}

static void build_seed20(struct sim_host *h)
{
        build_seed(h, 2);
}

/* Half the VMs flip between busy and idle every 2 to 6 ticks, out of step;
 * node0 also holds four steadily busy VMs, the one lasting imbalance. */
static void build_noisy(struct sim_host *h)
{
        sim_host_init(h, 4, 16, 32, 7);
        for (unsigned k = 0; k < 32; k++) {
                char name[32];
                struct sim_vm *vm;

                snprintf(name, sizeof(name), "flip%02u", k);
                vm = sim_host_add_vm(h, name, 2, 3, 1.0);
                if (k % 2) {
                        vm->level_hi = 2.0;
                        vm->level_lo = 0.2;
                        vm->period = 2 + (long) (5 * sim_rand(h->seed, k, 1));
                        vm->phase = (long) (10 * sim_rand(h->seed, k, 2));
                }
                vm->jitter = 0.2;
                put(vm, k % 4);
        }
        for (unsigned k = 0; k < 4; k++) {
                char name[32];
                struct sim_vm *vm;

                snprintf(name, sizeof(name), "steady%u", k);
                vm = sim_host_add_vm(h, name, 4, 4, 3.0);
                put(vm, 0);
        }
}

/* Eighty VMs of mixed sizes arrive one every two ticks, unplaced, and each
 * leaves after 30 to 150 ticks. */
static void build_churn(struct sim_host *h)
{
        static const unsigned vcpus[] = { 1, 2, 4, 8 };
        static const double gib[] = { 1, 2, 4, 8 };

        sim_host_init(h, 4, 16, 64, 11);
        for (unsigned k = 0; k < 80; k++) {
                unsigned c = vcpus[(unsigned) (4 * sim_rand(h->seed, k, 1))];
                char name[32];
                struct sim_vm *vm;

                snprintf(name, sizeof(name), "churn%02u", k);
                vm = sim_host_add_vm(h, name, c, gib[(unsigned) (4 * sim_rand(h->seed, k, 2))],
                                     c * (0.3 + 0.7 * sim_rand(h->seed, k, 3)));
                vm->jitter = 0.2;
                vm->grow_mib_per_tick = 512;
                vm->arrive = 1 + 2 * (long) k;
                vm->leave = vm->arrive + 30 + (long) (120 * sim_rand(h->seed, k, 4));
        }
}

/* Two sockets of two nodes each (distance 12 inside a socket, 20 across):
 * a 24-vCPU, 96 GiB VM that no node holds starts among eight small ones. */
static void build_big(struct sim_host *h)
{
        struct sim_vm *vm;

        sim_host_init(h, 4, 16, 64, 13);
        h->distance[0][1] = h->distance[1][0] = 12;
        h->distance[2][3] = h->distance[3][2] = 12;
        for (unsigned k = 0; k < 8; k++) {
                char name[32];

                snprintf(name, sizeof(name), "small%u", k);
                vm = sim_host_add_vm(h, name, 2, 4, 1.5);
                vm->jitter = 0.2;
                put(vm, k % 4);
        }
        vm = sim_host_add_vm(h, "big", 24, 96, 20.0);
        vm->jitter = 0.5;
        vm->arrive = 2;
        vm->grow_mib_per_tick = 4096;
}

/* Node0 is busy; the idle nodes are full of memory: only some moves fit. */
static void build_tight(struct sim_host *h)
{
        static const struct { const char *name; unsigned node; double gib, level; unsigned vcpus; } vms[] = {
                { "busy0", 0, 3, 3.5, 4 }, { "busy1", 0, 3, 3.5, 4 }, { "busy2", 0, 3, 3.5, 4 },
                { "busy3", 0, 3, 3.5, 4 }, { "busy4", 0, 3, 3.5, 4 }, { "busy5", 0, 3, 3.5, 4 },
                { "busy6", 0, 3, 3.5, 4 }, { "busy7", 0, 3, 3.5, 4 },
                { "busy8", 1, 3, 3.5, 4 }, { "busy9", 1, 3, 3.5, 4 }, { "hog1", 1, 16, 0.3, 2 },
                { "hog2", 2, 27, 0.2, 2 }, { "hog3", 3, 28, 0.2, 2 },
        };

        sim_host_init(h, 4, 16, 32, 17);
        for (unsigned n = 0; n < 4; n++)
                h->host_used_mib[n] = 2048;
        for (size_t k = 0; k < sizeof(vms) / sizeof(vms[0]); k++) {
                struct sim_vm *vm = sim_host_add_vm(h, vms[k].name, vms[k].vcpus, vms[k].gib, vms[k].level);

                vm->jitter = 0.2;
                put(vm, vms[k].node);
        }
}

/* A thousand small VMs on 8 nodes, crowded on the low nodes: the cost of
 * one decision at scale. */
static void build_many(struct sim_host *h)
{
        sim_host_init(h, 8, 32, 256, 19);
        for (unsigned k = 0; k < 1000; k++) {
                unsigned c = 1 + (unsigned) (2 * sim_rand(h->seed, k, 1));
                double r = sim_rand(h->seed, k, 3);
                char name[32];
                struct sim_vm *vm;

                snprintf(name, sizeof(name), "vm%04u", k);
                vm = sim_host_add_vm(h, name, c, c, c * (0.1 + 0.4 * sim_rand(h->seed, k, 2)));
                vm->jitter = 0.1;
                put(vm, (unsigned) (8 * r * r));
        }
}

/* A VM named prefix and its number k. */
static struct sim_vm *add_nth(struct sim_host *h, const char *prefix, unsigned k, unsigned vcpus, double gib,
                              double level)
{
        char name[32];

        snprintf(name, sizeof(name), "%s%02u", prefix, k);
        return sim_host_add_vm(h, name, vcpus, gib, level);
}

/* on[n] VMs alike on each node n, named prefix and their number. */
static void crowd(struct sim_host *h, const char *prefix, const unsigned *on, unsigned vcpus, double gib,
                  double level, double jitter)
{
        unsigned k = 0;

        for (unsigned n = 0; n < h->n_nodes; n++)
                for (unsigned j = 0; j < on[n]; j++, k++) {
                        struct sim_vm *vm = add_nth(h, prefix, k, vcpus, gib, level);

                        vm->jitter = jitter;
                        put(vm, n);
                }
}

/* Load right at the trigger: every node runs eight VMs of 2.0; node0 has
 * two more of 1.0, so it leads by 2 runnable threads at a ratio of 1.11,
 * and the jitter takes it above and below the trigger. One move of a 1.0
 * VM settles it; moving a 2.0 VM only hands the lead to its target. */
static void build_at_trigger(struct sim_host *h)
{
        sim_host_init(h, 4, 16, 64, 23);
        for (unsigned k = 0; k < 34; k++) {
                struct sim_vm *vm = add_nth(h, k < 32 ? "vm" : "extra", k, k < 32 ? 2 : 1, 2, k < 32 ? 2.0 : 1.0);

                vm->jitter = 0.4;
                put(vm, k < 32 ? k % 4 : 0);
        }
}

/* Day and night, shortened: 16 "office" VMs busy (2.5) for 240 ticks
 * (20 minutes), then idle (0.1) as long; 16 steady VMs at 3.0. The office
 * VMs start crowded on nodes 0-1, the steady ones on 2-3, so day and night
 * each call for the opposite moves unless every node gets a share of both. */
static void build_day_night(struct sim_host *h)
{
        static const unsigned office_on[4] = { 6, 5, 3, 2 };
        unsigned k = 0;

        sim_host_init(h, 4, 16, 64, 29);
        for (unsigned n = 0; n < 4; n++)
                for (unsigned j = 0; j < 8; j++, k++) {
                        bool office = j < office_on[n];
                        struct sim_vm *vm = add_nth(h, office ? "office" : "steady", k, 4, 4, office ? 2.5 : 3.0);

                        if (office) {
                                vm->level_lo = 0.1;
                                vm->period = 240;
                        }
                        vm->jitter = 0.3;
                        put(vm, n);
                }
}

/* 120 light VMs (1 vCPU, 0.4 each): 50 on node0, 40 on node1, 20 and 10
 * on the others, node loads 1.4 vs 0.3. No one VM is busy, the host is. */
static void build_light(struct sim_host *h)
{
        static const unsigned on[4] = { 50, 40, 20, 10 };

        sim_host_init(h, 4, 16, 64, 31);
        crowd(h, "light", on, 1, 1, 0.4, 0.1);
}

/* Two 16-vCPU, 64 GiB VMs start unplaced with their memory spread over all
 * nodes (booted before any balancer), among 48 small 1-vCPU, 1 GiB VMs
 * crowded on node0-1: the small ones' memory must not wait behind the big
 * ones' 48 GiB each. */
static void build_mixed(struct sim_host *h)
{
        sim_host_init(h, 4, 24, 192, 37);
        for (unsigned k = 0; k < 2; k++) {
                struct sim_vm *vm = add_nth(h, "big", k, 16, 64, 12.0);

                vm->jitter = 0.5;
                for (unsigned n = 0; n < 4; n++)
                        vm->resident[n] = vm->mem_size_mib / 4;
        }
        for (unsigned k = 0; k < 48; k++) {
                struct sim_vm *vm = add_nth(h, "small", k, 1, 1, 0.9);

                vm->jitter = 0.2;
                put(vm, k % 3 == 2 ? 1 : 0);
        }
}

/* 8 nodes of 8 CPUs in pairs {0,1} {2,3} {4,5} {6,7}: 12 within a pair,
 * 20 to the other pair of the same socket, 32 across sockets. Node0 is
 * overloaded; node1 next to it has room, and so do the far nodes 4-7. */
static void build_dist8(struct sim_host *h)
{
        static const unsigned on[8] = { 8, 2, 3, 3, 1, 1, 1, 1 };

        sim_host_init(h, 8, 8, 32, 41);
        for (unsigned a = 0; a < 8; a++)
                for (unsigned b = 0; b < 8; b++)
                        h->distance[a][b] = a == b ? 10 : a / 2 == b / 2 ? 12 : a / 4 == b / 4 ? 20 : 32;
        crowd(h, "vm", on, 2, 2, 1.5, 0.2);
}

/* Bursts of seconds: 32 VMs, 8 a node, idle (0.2) but for bursts of 2
 * runnable threads that last part of a 5 s interval, in 30 % of the
 * intervals, out of step. Balanced on average; any move chases noise. */
static void build_bursty(struct sim_host *h)
{
        static const unsigned on[4] = { 8, 8, 8, 8 };

        sim_host_init(h, 4, 8, 32, 43);
        crowd(h, "burst", on, 2, 2, 0.2, 0.1);
        for (size_t i = 0; i < h->n_vms; i++) {
                h->vms[i].burst = 4.0;
                h->vms[i].burst_p = 0.3;
        }
}

/* A nearly full idle node: node3 has no load but a 28.5 GiB idle VM of
 * its 32 GiB; node0 is overloaded with 4 GiB VMs and a few 1 GiB ones.
 * Only the small ones fit on the idle node; the rest of the balance must
 * come from nodes 1-2, or leave memory behind. */
static void build_full_idle(struct sim_host *h)
{
        static const unsigned big_on[4] = { 8, 5, 5, 0 }, small_on[4] = { 4, 0, 0, 0 };
        struct sim_vm *vm;

        sim_host_init(h, 4, 16, 32, 47);
        crowd(h, "vm", big_on, 2, 4, 2.0, 0.2);
        crowd(h, "small", small_on, 2, 1, 1.5, 0.2);
        vm = sim_host_add_vm(h, "idle-hog", 2, 28.5, 0.1);
        put(vm, 3);
}

/* Clones sharing pages: four groups of six VMs from one template each
 * (2.5 of their 4 GiB the same, merged by KSM within a node). Node0 holds
 * groups 1 and 2, nodes 1 and 2 one group each, node3 nothing: moving all
 * of one group to node3 balances and keeps every group whole. */
static void build_ksm(struct sim_host *h)
{
        static const unsigned node_of[4] = { 0, 0, 1, 2 };

        sim_host_init(h, 4, 16, 64, 53);
        for (unsigned g = 0; g < 4; g++)
                for (unsigned k = 0; k < 6; k++) {
                        struct sim_vm *vm = add_nth(h, "clone", 6 * g + k, 2, 4, 1.5);

                        vm->jitter = 0.2;
                        vm->share_group = g + 1;
                        vm->shared_mib = 2.5 * 1024;
                        put(vm, node_of[g]);
                }
}

const struct sim_scenario sim_scenarios[] = {
        { "seed-40", "seed 004: 40 dbench VMs (4 vCPU, 2 GiB) on 4 nodes x 20 CPUs, the seed's random placement",
          60, build_seed40 },
        { "seed-20", "seed 004: the 20 VMs of nodes 0-1 only; nodes 2-3 idle", 60, build_seed20 },
        { "at-trigger", "node0 leads by 2.0 runnable threads, ratio 1.11: right at the trigger, jitter 0.4 per VM",
          120, build_at_trigger },
        { "day-night", "16 office VMs busy 20 min then idle 20 min, 16 steady; office crowded on nodes 0-1", 1440,
          build_day_night },
        { "light", "120 light VMs (1 vCPU, load 0.4) crowded 50/40/20/10 on 4 nodes x 16 CPUs", 60, build_light },
        { "mixed", "two 16-vCPU 64 GiB VMs with memory everywhere, 48 1-vCPU 1 GiB VMs crowded on nodes 0-1", 120,
          build_mixed },
        { "dist8", "8 nodes x 8 CPUs, distances 12/20/32; node0 overloaded, node1 (12) and nodes 4-7 (32) have room",
          60, build_dist8 },
        { "noisy", "32 VMs, half flipping busy/idle every 2-6 ticks, 4 steady busy VMs on node0", 120, build_noisy },
        { "churn", "80 VMs of 1-8 vCPUs, 1-8 GiB arrive unplaced every 2 ticks, leave after 30-150", 240,
          build_churn },
        { "big-vm", "a 24-vCPU, 96 GiB VM larger than any node (16 CPUs, 64 GiB), sockets {0,1} {2,3}", 80,
          build_big },
        { "mem-tight", "node0 busy; idle nodes 2-3 hold 27-28 GiB hogs (32 GiB nodes)", 60, build_tight },
        { "many", "1000 VMs on 8 nodes x 32 CPUs, crowded on low nodes", 60, build_many },
        { "bursty", "32 idle VMs (0.2) with bursts of seconds (up to 4 threads, 30 % of intervals), 8 a node", 120,
          build_bursty },
        { "full-idle", "node0 overloaded; idle node3 nearly full (28.5 of 32 GiB): only 1 GiB VMs fit there", 60,
          build_full_idle },
        { "ksm-clones", "4 groups of 6 clones sharing 2.5 GiB each through KSM; groups 1-2 on node0, node3 empty",
          60, build_ksm },
        {},
};
