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

const struct sim_scenario sim_scenarios[] = {
        { "seed-40", "seed 004: 40 dbench VMs (4 vCPU, 2 GiB) on 4 nodes x 20 CPUs, the seed's random placement",
          60, build_seed40 },
        { "seed-20", "seed 004: the 20 VMs of nodes 0-1 only; nodes 2-3 idle", 60, build_seed20 },
        { "noisy", "32 VMs, half flipping busy/idle every 2-6 ticks, 4 steady busy VMs on node0", 120, build_noisy },
        { "churn", "80 VMs of 1-8 vCPUs, 1-8 GiB arrive unplaced every 2 ticks, leave after 30-150", 240,
          build_churn },
        { "big-vm", "a 24-vCPU, 96 GiB VM larger than any node (16 CPUs, 64 GiB), sockets {0,1} {2,3}", 80,
          build_big },
        { "mem-tight", "node0 busy; idle nodes 2-3 hold 27-28 GiB hogs (32 GiB nodes)", 60, build_tight },
        { "many", "1000 VMs on 8 nodes x 32 CPUs, crowded on low nodes", 60, build_many },
        {},
};
