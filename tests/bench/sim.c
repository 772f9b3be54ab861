/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer simulator: replays every scenario of the model host under
 * four policies (none, seed 004's rule, numad-like, vmtuned) and prints one
 * table per scenario. A benchmark, not a test: the regression thresholds
 * live in tests/unit/test-balance-sim.c, on the same model.
 *
 *   sim [--trace POLICY] [SCENARIO...]
 *
 * With --trace, every tick's plan of that policy (moves with their
 * reasons) is printed before the tables. tests/bench/README.md explains the
 * columns. */

/* The model host is test code (tests/lib/simmodel.c, simscenarios.c), linked
 * in by the Makefile, so the simulator and the regression tests share one
 * model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "simmodel.h"

static void print_header(const struct sim_scenario *sc)
{
        printf("\n== %s: %s; %ld ticks of 5 s\n", sc->name, sc->what, sc->ticks);
        printf("%-11s %9s %11s %6s %8s %6s %6s %9s %7s %15s\n", "policy", "balanced", "max/min", "moves",
               "reverted", "placed", "max/VM", "mem GiB", "local%", "decide us avg/max");
}

static void print_row(enum sim_policy policy, const struct sim_result *r)
{
        char balanced[32], load[64], usec[64];

        if (r->ticks_to_balance < 0)
                snprintf(balanced, sizeof(balanced), "never");
        else
                snprintf(balanced, sizeof(balanced), "t=%ld", r->ticks_to_balance);
        snprintf(load, sizeof(load), "%.2f/%.2f", r->final_max_load, r->final_min_load);
        snprintf(usec, sizeof(usec), "%.1f/%.1f", r->decide_usec_avg, r->decide_usec_max);
        printf("%-11s %9s %11s %6ld %8ld %6ld %6ld %9.1f %7.1f %15s\n", sim_policy_name(policy), balanced, load,
               r->moves, r->reverts, r->placements, r->max_moves_per_vm, r->mem_moved_gib,
               100 * r->local_fraction, usec);
}

static int run_scenario(const struct sim_scenario *sc, const struct balance_params *p, int trace_policy)
{
        for (int policy = 0; policy < _SIM_POLICY_MAX; policy++) {
                if (policy != trace_policy)
                        continue;
                struct sim_result res;

                printf("\n-- trace: %s under %s\n", sc->name, sim_policy_name((enum sim_policy) policy));
                if (sim_run(sc, (enum sim_policy) policy, p, stdout, &res) < 0)
                        return -EINVAL;
        }
        print_header(sc);
        for (int policy = 0; policy < _SIM_POLICY_MAX; policy++) {
                struct sim_result res;
                int r = sim_run(sc, (enum sim_policy) policy, p, NULL, &res);

                if (r < 0) {
                        fprintf(stderr, "sim: %s under %s: %s\n", sc->name,
                                sim_policy_name((enum sim_policy) policy), strerror(-r));
                        return r;
                }
                print_row((enum sim_policy) policy, &res);
        }
        return 0;
}

static int parse_policy(const char *name)
{
        for (int policy = 0; policy < _SIM_POLICY_MAX; policy++)
                if (streq(name, sim_policy_name((enum sim_policy) policy)))
                        return policy;
        return -1;
}

int main(int argc, char **argv)
{
        struct balance_params p;
        int trace_policy = -1, first = 1, failed = 0;

        if (argc > 2 && streq(argv[1], "--trace")) {
                trace_policy = parse_policy(argv[2]);
                if (trace_policy < 0) {
                        fprintf(stderr, "sim: unknown policy %s (none, seed-rule, numad-like, vmtuned)\n", argv[2]);
                        return 2;
                }
                first = 3;
        }
        sim_params_default(&p);
        printf("# command:");
        for (int i = 0; i < argc; i++)
                printf(" %s", argv[i]);
        printf("\n# vmtuned params: diff >= %.0f, ratio > %.2f, load > %.2f, probation %ld, cooldown %ld, "
               "%ld moves/tick, %ld MiB/tick, move cost %ld MiB, memory follows below %ld%% local\n",
               p.min_nr_running_diff, p.min_load_ratio, p.min_load_high, p.probation_ticks, p.cooldown_ticks,
               p.max_moves_per_tick, p.max_migrate_mib_per_tick, p.move_cost_mib, p.local_min_permille / 10);

        if (first >= argc) {
                for (const struct sim_scenario *sc = sim_scenarios; sc->name; sc++)
                        failed |= run_scenario(sc, &p, trace_policy) < 0;
                return failed;
        }
        for (int i = first; i < argc; i++) {
                const struct sim_scenario *sc = sim_scenario_find(argv[i]);

                if (!sc) {
                        fprintf(stderr, "sim: unknown scenario %s\n", argv[i]);
                        return 2;
                }
                failed |= run_scenario(sc, &p, trace_policy) < 0;
        }
        return failed;
}
