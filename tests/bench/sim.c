/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The balancer simulator: replays every scenario of the model host under
 * six policies (kernel alone, manual binding where the VMs start and at its
 * best, seed 004's rule, numad-like, vmtuned), scores what the VMs got and
 * prints one table per scenario and a summary. A benchmark, not a test: the
 * regression thresholds live in tests/unit/test-balance-sim.c, on the same
 * model.
 *
 *   sim [--trace POLICY] [SCENARIO...]
 *   sim --calibrate
 *
 * SIM_CONFIG=FILE runs vmtuned with FILE's [balancer] (vmtuned.conf(5))
 * instead of the defaults. SIM_MIGRATE_SEC_PER_GIB=S sets the migration cost
 * (seconds per GiB, CPU and wall time; default seed 004's, tests/lib/simscore.c),
 * e.g. 8 for the lab's 85-128 MiB/s per memory move.
 *
 * With --trace, every tick's plan of that policy (moves with their
 * reasons) is printed before the tables. --calibrate fits the model's two
 * constants on seed 004's 40-VM row and shows its 20-VM row beside the
 * seed's (tests/lib/simscore.c). tests/bench/README.md explains the
 * columns. */

/* The model host is test code (tests/lib/simmodel.c, simscenarios.c), linked
 * in by the Makefile, so the simulator and the regression tests share one
 * model. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "simmodel.h"

static void print_header(const struct sim_scenario *sc)
{
        printf("\n== %s: %s; %ld ticks of 5 s\n", sc->name, sc->what, sc->ticks);
        printf("%-10s %7s %5s %5s %5s %7s %7s %8s %6s %6s %5s %4s %4s %4s %13s\n", "policy", "MB/s", "%best", "fair",
               "moves", "revert", "GiB", "balanced", "local%", "KSMdup", "max/VM", "back", "wait", "dist", "decide us");
}

static const char *balanced_str(const struct sim_result *r, char *buf, size_t size)
{
        if (r->ticks_to_balance < 0)
                snprintf(buf, size, "never");
        else
                snprintf(buf, size, "t=%ld", r->ticks_to_balance);
        return buf;
}

static void print_row(enum sim_policy policy, const struct sim_result *r, const struct sim_result *best)
{
        char balanced[32], usec[64];

        balanced_str(r, balanced, sizeof(balanced));
        snprintf(usec, sizeof(usec), "%.1f/%.1f", r->decide_usec_avg, r->decide_usec_max);
        printf("%-10s %7.0f %5.1f %5.3f %5ld %7ld %7.1f %8s %6.1f %6.1f %6ld %4ld %4ld %4.1f %13s\n", sim_policy_name(policy),
               r->throughput_mbs, 100 * r->throughput_mbs / best->throughput_mbs, r->fairness, r->moves, r->reverts,
               r->mem_moved_gib, balanced, 100 * r->local_fraction, r->ksm_dup_gib, r->max_moves_per_vm,
               r->max_returns_per_vm, r->small_wait_max, r->move_distance_avg, usec);
}

/* Issue 14's targets for vmtuned on one scenario; the letters of those
 * missed go to buf ("-": all met). T throughput >= the best of seed rule,
 * numad-like and kernel; B within 2 % of manual binding (bind-best); F
 * fairness no worse than the seed rule's; M moves and G GiB migrated no
 * more than the seed rule's; P no VM moved back and forth more than once
 * (moved back to the nodes its previous move left at most once); K balanced no later than the seed rule where it
 * balances. */
static const char *targets_missed(const struct sim_result *res, char *buf, size_t size)
{
        const struct sim_result *v = &res[SIM_VMTUNED], *s = &res[SIM_SEED];
        double best = fmax(fmax(s->throughput_mbs, res[SIM_NUMAD].throughput_mbs), res[SIM_KERNEL].throughput_mbs);
        size_t k = 0;

        if (v->throughput_mbs < best)
                buf[k++] = 'T';
        if (v->throughput_mbs < 0.98 * res[SIM_BIND_BEST].throughput_mbs)
                buf[k++] = 'B';
        if (v->fairness < s->fairness)
                buf[k++] = 'F';
        if (v->moves > s->moves)
                buf[k++] = 'M';
        if (v->mem_moved_gib > s->mem_moved_gib + 0.05)
                buf[k++] = 'G';
        if (v->max_returns_per_vm > 1)
                buf[k++] = 'P';
        if (s->ticks_to_balance >= 0 && (v->ticks_to_balance < 0 || v->ticks_to_balance > s->ticks_to_balance))
                buf[k++] = 'K';
        if (k == 0)
                buf[k++] = '-';
        buf[k < size ? k : size - 1] = 0;
        return buf;
}

/* Every baseline and vmtuned side by side, one line per scenario. */
static void print_summary(const struct sim_scenario *const *scs, const struct sim_result (*res)[_SIM_POLICY_MAX],
                          size_t n)
{
        printf("\n== summary: MB/s by policy; then seed rule | vmtuned: fairness, moves, reverted, GiB, balanced\n");
        printf("%-10s", "scenario");
        for (int policy = 0; policy < _SIM_POLICY_MAX; policy++)
                printf(" %10s", sim_policy_name((enum sim_policy) policy));
        printf(" | %5s %5s %4s %5s %6s | %5s %5s %4s %5s %6s | %s\n", "fair", "moves", "rev", "GiB", "bal", "fair",
               "moves", "rev", "GiB", "bal", "missed");
        for (size_t k = 0; k < n; k++) {
                const struct sim_result *s = &res[k][SIM_SEED], *v = &res[k][SIM_VMTUNED];
                char bs[32], bv[32], missed[16];

                printf("%-10s", scs[k]->name);
                for (int policy = 0; policy < _SIM_POLICY_MAX; policy++)
                        printf(" %10.0f", res[k][policy].throughput_mbs);
                printf(" | %5.3f %5ld %4ld %5.0f %6s | %5.3f %5ld %4ld %5.0f %6s | %s\n", s->fairness, s->moves,
                       s->reverts, s->mem_moved_gib, balanced_str(s, bs, sizeof(bs)), v->fairness, v->moves, v->reverts,
                       v->mem_moved_gib, balanced_str(v, bv, sizeof(bv)), targets_missed(res[k], missed, sizeof(missed)));
        }
        printf("missed: T throughput < best of seed-rule/numad-like/kernel, B < 98 %% of bind-best, F fairness < seed "
               "rule's,\n        M moves > seed rule's, G GiB > seed rule's, P a VM moved back > once, K balanced later "
               "than the seed rule\n");
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
        for (int policy = 0; policy < _SIM_POLICY_MAX; policy++) {
                int r = sim_run(sc, (enum sim_policy) policy, p, NULL, &ret[policy]);

                if (r < 0) {
                        fprintf(stderr, "sim: %s under %s: %s\n", sc->name,
                                sim_policy_name((enum sim_policy) policy), strerror(-r));
                        return r;
                }
        }
        print_header(sc);
        for (int policy = 0; policy < _SIM_POLICY_MAX; policy++)
                print_row((enum sim_policy) policy, &ret[policy], &ret[SIM_BIND_BEST]);
        return 0;
}

/* Seed 004's figures, MB/s: no balancer, balancer, manual binding. */
static const double seed40[3] = { 14541, 18771, 18896 }, seed20[3] = { 15298, 19374, 9096 };

static double mbs(const char *scenario, enum sim_policy policy, const struct balance_params *p)
{
        struct sim_result res;

        if (sim_run(sim_scenario_find(scenario), policy, p, NULL, &res) < 0)
                abort();
        return res.throughput_mbs;
}

static void print_row_vs_seed(const char *scenario, const double seed[3], const struct balance_params *p,
                              enum sim_policy manual)
{
        const enum sim_policy policies[3] = { SIM_KERNEL, SIM_SEED, manual };

        printf("%-8s", scenario);
        for (int k = 0; k < 3; k++) {
                double v = mbs(scenario, policies[k], p);

                printf("  %-10s %6.0f (seed %5.0f, %+5.1f%%)", sim_policy_name(policies[k]), v, seed[k],
                       100 * (v / seed[k] - 1));
        }
        printf("  vmtuned %6.0f\n", mbs(scenario, SIM_VMTUNED, p));
}

/* mbs_per_cpu from manual binding, which keeps all memory local (so the
 * remote penalty does not enter), then remote_penalty by bisection from the
 * kernel alone, whose throughput falls as the penalty grows. */
static void calibrate(const struct balance_params *p)
{
        double lo = 0, hi = 4;

        sim_model.mbs_per_cpu = 1;
        sim_model.mbs_per_cpu = seed40[2] / mbs("seed-40", SIM_BIND_BEST, p);
        for (int k = 0; k < 40; k++) {
                sim_model.remote_penalty = (lo + hi) / 2;
                if (mbs("seed-40", SIM_KERNEL, p) > seed40[0])
                        lo = sim_model.remote_penalty;
                else
                        hi = sim_model.remote_penalty;
        }
        printf("# fitted on seed-40: mbs_per_cpu %.1f (bind-best = %.0f MB/s), remote_penalty %.3f (kernel = %.0f MB/s)\n",
               sim_model.mbs_per_cpu, seed40[2], sim_model.remote_penalty, seed40[0]);
        printf("# seed 004's 40-VM row fitted, its 20-VM row predicted (its manual binding: VMs stuck where they start):\n");
        print_row_vs_seed("seed-40", seed40, p, SIM_BIND_BEST);
        print_row_vs_seed("seed-20", seed20, p, SIM_BIND_START);
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

        if (argc == 2 && streq(argv[1], "--calibrate")) {
                sim_params_default(&p);
                calibrate(&p);
                return 0;
        }
        if (argc > 2 && streq(argv[1], "--trace")) {
                trace_policy = parse_policy(argv[2]);
                if (trace_policy < 0) {
                        fprintf(stderr, "sim: unknown policy %s (kernel, bind-start, bind-best, seed-rule, numad-like, vmtuned)\n", argv[2]);
                        return 2;
                }
                first = 3;
        }
        for (const struct sim_scenario *sc = sim_scenarios; sc->name; sc++)
                max++;
        scs = xcalloc(max, sizeof(*scs));
        const char *config = getenv("SIM_CONFIG");
        if (config ? sim_params_from_file(config, &p) < 0 : (sim_params_default(&p), false))
                return 2;
        const char *cost = getenv("SIM_MIGRATE_SEC_PER_GIB");
        bool seed_figure = !cost;
        if (cost) {
                char *end;

                sim_model.migrate_sec_per_gib = strtod(cost, &end);
                if (end == cost || *end || !(sim_model.migrate_sec_per_gib >= 0)) {
                        fprintf(stderr, "sim: SIM_MIGRATE_SEC_PER_GIB=%s is not a number of seconds >= 0\n", cost);
                        return 2;
                }
        }
        printf("# command:%s%s%s%s", config ? " SIM_CONFIG=" : "", config ? config : "",
               cost ? " SIM_MIGRATE_SEC_PER_GIB=" : "", cost ? cost : "");
        for (int i = 0; i < argc; i++)
                printf(" %s", argv[i]);
        printf("\n# vmtuned params: diff >= %.0f, ratio > %.2f, load > %.2f, probation %ld, cooldown %ld, "
               "%ld moves/tick, %ld MiB/tick, idle floor %.2f, move cost %ld MiB, memory follows below %ld%% local\n",
               p.min_nr_running_diff, p.min_load_ratio, p.min_load_high, p.probation_ticks, p.cooldown_ticks,
               p.max_moves_per_tick, p.max_migrate_mib_per_tick, p.idle_floor, p.move_cost_mib,
               p.local_min_permille / 10);
        printf("# model: %.1f MB/s per CPU, remote penalty %.3f at distance 20, kernel spread %.2f, autonuma %.0f MiB/tick "
               "a VM, migration %.2f CPU s/GiB%s\n", sim_model.mbs_per_cpu, sim_model.remote_penalty,
               sim_model.kernel_spread, sim_model.autonuma_mib_per_tick, sim_model.migrate_sec_per_gib,
               seed_figure ? " (seed 004's log)" : "");

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
