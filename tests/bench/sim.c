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
        printf("%-11s %9s %11s %6s %8s %6s %6s %9s %7s %5s %5s %15s\n", "policy", "balanced", "max/min", "moves",
               "reverted", "placed", "max/VM", "mem GiB", "local%", "wait", "dist", "decide us avg/max");
}

static const char *balanced_str(const struct sim_result *r, char *buf, size_t size)
{
        if (r->ticks_to_balance < 0)
                snprintf(buf, size, "never");
        else
                snprintf(buf, size, "t=%ld", r->ticks_to_balance);
        return buf;
}

static void print_row(enum sim_policy policy, const struct sim_result *r)
{
        char balanced[32], load[64], usec[64];

        balanced_str(r, balanced, sizeof(balanced));
        snprintf(load, sizeof(load), "%.2f/%.2f", r->final_max_load, r->final_min_load);
        snprintf(usec, sizeof(usec), "%.1f/%.1f", r->decide_usec_avg, r->decide_usec_max);
        printf("%-11s %9s %11s %6ld %8ld %6ld %6ld %9.1f %7.1f %5ld %5.1f %15s\n", sim_policy_name(policy), balanced,
               load, r->moves, r->reverts, r->placements, r->max_moves_per_vm, r->mem_moved_gib,
               100 * r->local_fraction, r->small_wait_max, r->move_distance_avg, usec);
}

/* The seed rule and vmtuned side by side, one line per scenario. */
static void print_summary(const struct sim_scenario *const *scs, const struct sim_result (*res)[_SIM_POLICY_MAX],
                          size_t n)
{
        printf("\n== summary: seed rule | vmtuned (balanced from tick, CPU moves, reverted, GiB migrated)\n");
        printf("%-11s %9s %6s %8s %8s | %9s %6s %8s %8s\n", "scenario", "balanced", "moves", "reverted", "GiB",
               "balanced", "moves", "reverted", "GiB");
        for (size_t k = 0; k < n; k++) {
                const struct sim_result *s = &res[k][SIM_SEED], *v = &res[k][SIM_VMTUNED];
                char bs[32], bv[32];

                printf("%-11s %9s %6ld %8ld %8.1f | %9s %6ld %8ld %8.1f\n", scs[k]->name,
                       balanced_str(s, bs, sizeof(bs)), s->moves, s->reverts, s->mem_moved_gib,
                       balanced_str(v, bv, sizeof(bv)), v->moves, v->reverts, v->mem_moved_gib);
        }
}

static int run_scenario(const struct sim_scenario *sc, const struct balance_params *p, int trace_policy,
                        struct sim_result ret[_SIM_POLICY_MAX])
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
                ret[policy] = res;
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
        _cleanup_free_ const struct sim_scenario **scs = NULL;
        _cleanup_free_ struct sim_result (*res)[_SIM_POLICY_MAX] = NULL;
        size_t n = 0, max = (size_t) argc;

        if (argc > 2 && streq(argv[1], "--trace")) {
                trace_policy = parse_policy(argv[2]);
                if (trace_policy < 0) {
                        fprintf(stderr, "sim: unknown policy %s (none, seed-rule, numad-like, vmtuned)\n", argv[2]);
                        return 2;
                }
                first = 3;
        }
        for (const struct sim_scenario *sc = sim_scenarios; sc->name; sc++)
                max++;
        scs = xcalloc(max, sizeof(*scs));
        sim_params_default(&p);
        printf("# command:");
        for (int i = 0; i < argc; i++)
                printf(" %s", argv[i]);
        printf("\n# vmtuned params: diff >= %.0f, ratio > %.2f, load > %.2f, probation %ld, cooldown %ld, "
               "%ld moves/tick, %ld MiB/tick, idle floor %.2f, move cost %ld MiB, memory follows below %ld%% local\n",
               p.min_nr_running_diff, p.min_load_ratio, p.min_load_high, p.probation_ticks, p.cooldown_ticks,
               p.max_moves_per_tick, p.max_migrate_mib_per_tick, p.idle_floor, p.move_cost_mib,
               p.local_min_permille / 10);

        if (first >= argc)
                for (const struct sim_scenario *sc = sim_scenarios; sc->name; sc++)
                        scs[n++] = sc;
        for (int i = first; i < argc; i++) {
                scs[n] = sim_scenario_find(argv[i]);
                if (!scs[n]) {
                        fprintf(stderr, "sim: unknown scenario %s\n", argv[i]);
                        return 2;
                }
                n++;
        }
        res = xcalloc(n ? n : 1, sizeof(*res));
        for (size_t k = 0; k < n; k++)
                failed |= run_scenario(scs[k], &p, trace_policy, res[k]) < 0;
        if (!failed)
                print_summary(scs, res, n);
        return failed;
}
