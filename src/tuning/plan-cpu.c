/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning the [cpu] section (src/tuning/plan-internal.h): the governor
 * and the energy-performance preference of every cpufreq policy, the
 * energy_perf_bias of every CPU, and force_latency as the disable files
 * of every CPU's idle states. Reads sys/devices/system/cpu only. A machine
 * without cpufreq or cpuidle (most VMs) gets a note and no target. The
 * same plan for one CPU (only >= 0) serves a CPU that comes online later
 * (hot-plug): its policy, its energy_perf_bias, its idle states. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "base/bitmap.h"
#include "base/kfile.h"
#include "base/log.h"
#include "config/profile.h"
#include "plan-internal.h"
#include "tuning/cpu-policy.h"
#include "tuning/plan.h"

#define CPU_DIR "sys/devices/system/cpu"

/* The first of the profile's list ("performance,schedutil"; tuned's '|'
 * too) that the offered line names, or NULL. */
static char *choose_offered(const char *wanted, const char *offered)
{
        size_t n = 0;
        char **items = plan_split(wanted, ",|", &n);
        char *choice = NULL;

        for (size_t i = 0; i < n && !choice; i++)
                if (kfile_selector_offers(offered, items[i]))
                        choice = xstrdup(items[i]);
        plan_strv_free(items, n);
        return choice;
}

/* One per-policy key: file policyN/FILE set to the first of the list the
 * policy offers in policyN/OFFERED. */
static void plan_policy_choice(const struct kroot *root, long policy, const struct setting *s, const char *file,
                               const char *offered_file, struct target_list *l)
{
        _cleanup_free_ char *path = xasprintf(CPU_DIR "/cpufreq/policy%ld/%s", policy, file);
        _cleanup_free_ char *offered_path = xasprintf(CPU_DIR "/cpufreq/policy%ld/%s", policy, offered_file);
        _cleanup_free_ char *key = xasprintf("cpu policy%ld %s", policy, s->key);
        _cleanup_free_ char *choice = NULL;
        char offered[KFILE_VALUE_MAX];
        int r;

        if (!kfile_exists(root, path)) {
                plan_note_add(l, key, "%s: the cpufreq driver has no %s, skipped", key, file);
                return;
        }
        r = kfile_read(root, offered_path, offered, sizeof(offered));
        if (r == -EBUSY) {
                /* cpufreq answers EBUSY for a policy whose CPUs are all
                 * offline (nosmt hosts have many); hot-plug plans the
                 * policy again for its first CPU that comes online. */
                plan_note_add(l, key, "%s: every CPU of policy%ld is offline, skipped until one comes online", key,
                              policy);
                return;
        }
        if (r < 0) {
                plan_note_add(l, key, "%s: cannot read %s: %s, skipped", key, offered_path, strerror(-r));
                return;
        }
        choice = choose_offered(s->value, offered);
        if (choice)
                plan_target_add(l, TAKE_PTR(key), TAKE_PTR(path), choice, s, false, false);
        else
                plan_note_add(l, key, "%s: none of \"%s\" is offered (the policy has: %s), skipped", key, s->value,
                              offered);
}

/* Does cpufreq policy govern CPU cpu (related_cpus, which names offline CPUs too)? */
static bool policy_has_cpu(const struct kroot *root, long policy, long cpu)
{
        _cleanup_free_ char *path = xasprintf(CPU_DIR "/cpufreq/policy%ld/related_cpus", policy);
        struct bitmap cpus = {};
        bool has;

        if (kfile_read_list(root, path, &cpus) < 0)
                return policy == cpu; /* policyN is named after its first CPU */
        has = bitmap_test(&cpus, (unsigned) cpu);
        bitmap_done(&cpus);
        return has;
}

static void plan_policies(const struct kroot *root, const struct setting *governor, const struct setting *epp,
                          long only, struct target_list *l)
{
        _cleanup_free_ long *policies = NULL;
        size_t n = 0;

        (void) plan_list_numbered(root, CPU_DIR "/cpufreq", "policy", &policies, &n);
        if (n == 0 && only < 0) {
                plan_note_add(l, "cpu governor", "[cpu] %s%s%s: no cpufreq on this machine (%s/cpufreq has no policy), "
                              "skipped", governor ? "governor" : "", governor && epp ? ", " : "",
                              epp ? "energy_performance_preference" : "", CPU_DIR);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (only >= 0 && !policy_has_cpu(root, policies[i], only))
                        continue;
                if (governor)
                        plan_policy_choice(root, policies[i], governor, "scaling_governor",
                                           "scaling_available_governors", l);
                if (epp)
                        plan_policy_choice(root, policies[i], epp, "energy_performance_preference",
                                           "energy_performance_available_preferences", l);
        }
}

static void plan_epb(const struct kroot *root, const long *cpus, size_t n_cpus, long only, const struct setting *s,
                     struct target_list *l)
{
        size_t planned = 0;
        char value[16];
        int epb;

        if (cpu_epb_parse(s->value, &epb) < 0) {
                plan_note_add(l, NULL, "[cpu] energy_perf_bias=%s is not a valid value, ignoring", s->value);
                return;
        }
        snprintf(value, sizeof(value), "%d", epb);
        for (size_t i = 0; i < n_cpus; i++) {
                _cleanup_free_ char *path = xasprintf(CPU_DIR "/cpu%ld/power/energy_perf_bias", cpus[i]);

                if ((only >= 0 && cpus[i] != only) || !kfile_exists(root, path))
                        continue;
                plan_target_add(l, xasprintf("cpu cpu%ld energy_perf_bias", cpus[i]), TAKE_PTR(path), value, s,
                                false, false);
                planned++;
        }
        if (planned == 0 && only < 0)
                plan_note_add(l, "cpu energy_perf_bias", "[cpu] energy_perf_bias: no CPU offers "
                              "cpuN/power/energy_perf_bias (an x86 CPU with the EPB feature), skipped");
}

struct idle_ctx {
        const struct kroot *root;
        long cpu;
};

/* The exit latency of an idle state of ctx->cpu, in µs; -1 when unknown. */
static long idle_latency(long state, void *userdata)
{
        const struct idle_ctx *ctx = userdata;
        _cleanup_free_ char *path = xasprintf(CPU_DIR "/cpu%ld/cpuidle/state%ld/latency", ctx->cpu, state);
        long v;

        return kfile_read_long(ctx->root, path, 0, LONG_MAX, &v) < 0 ? -1 : v;
}

static void plan_force_latency(const struct kroot *root, const long *cpus, size_t n_cpus, long only,
                               const struct setting *s, struct target_list *l)
{
        struct latency_alt alts[FORCE_LATENCY_ALTS_MAX];
        struct idle_ctx ctx = { .root = root, .cpu = -1 };
        size_t n_alts = 0;
        long limit;

        if (force_latency_parse(s->value, alts, &n_alts) < 0) {
                plan_note_add(l, NULL, "[cpu] force_latency=%s is not a valid value, ignoring", s->value);
                return;
        }
        /* As tuned, C-state ids are looked up on the first CPU with idle states. */
        for (size_t i = 0; i < n_cpus && ctx.cpu < 0; i++) {
                _cleanup_free_ char *dir = xasprintf(CPU_DIR "/cpu%ld/cpuidle/state0", cpus[i]);

                if (kfile_exists(root, dir))
                        ctx.cpu = cpus[i];
        }
        if (ctx.cpu < 0) {
                if (only >= 0)
                        return;
                plan_note_add(l, "cpu force_latency", "[cpu] force_latency: no cpuidle states on this machine "
                              "(%s/cpuN/cpuidle), skipped", CPU_DIR);
                return;
        }
        if (force_latency_resolve(alts, n_alts, idle_latency, &ctx, &limit) < 0) {
                plan_note_add(l, "cpu force_latency", "[cpu] force_latency: none of \"%s\" names an idle state of "
                              "cpu%ld, skipped", s->value, ctx.cpu);
                return;
        }
        log_debug("[cpu] force_latency=%s: idle states with an exit latency above %ld us are disabled",
                  s->value, limit);
        for (size_t i = 0; i < n_cpus; i++) {
                _cleanup_free_ char *dir = xasprintf(CPU_DIR "/cpu%ld/cpuidle", cpus[i]);
                _cleanup_free_ long *states = NULL;
                size_t n_states = 0;

                if (only >= 0 && cpus[i] != only)
                        continue;
                ctx.cpu = cpus[i];
                (void) plan_list_numbered(root, dir, "state", &states, &n_states);
                for (size_t k = 0; k < n_states; k++) {
                        long lat = idle_latency(states[k], &ctx);

                        if (lat < 0 || !cpu_idle_state_excluded(lat, limit))
                                continue;
                        plan_target_add(l, xasprintf("cpu cpu%ld state%ld force_latency", cpus[i], states[k]),
                                        xasprintf("%s/state%ld/disable", dir, states[k]), "1", s, false, false);
                }
        }
}

/* intel_pstate's host-wide percentages: on a machine with another cpufreq
 * driver, or none (most VMs), a note like the other [cpu] keys get, not a
 * knob "not on this kernel" (which verify counts as a profile error). */
static void plan_perf_pct(const struct kroot *root, const struct setting *s, struct target_list *l)
{
        _cleanup_free_ char *key = xasprintf("cpu %s", s->key);
        _cleanup_free_ char *path = xasprintf(CPU_DIR "/intel_pstate/%s", s->key);

        if (!kfile_exists(root, path)) {
                plan_note_add(l, key, "[cpu] %s: no intel_pstate on this machine (%s), skipped", s->key, path);
                return;
        }
        plan_target_add(l, TAKE_PTR(key), TAKE_PTR(path), s->value, s, false, false);
}

void plan_cpu(const struct kroot *root, const struct profile *p, long only, struct target_list *l)
{
        const struct setting *governor = profile_get(p, "cpu", "governor");
        const struct setting *epp = profile_get(p, "cpu", "energy_performance_preference");
        const struct setting *epb = profile_get(p, "cpu", "energy_perf_bias");
        const struct setting *latency = profile_get(p, "cpu", "force_latency");
        _cleanup_free_ long *cpus = NULL;
        size_t n_cpus = 0;

        if (governor || epp)
                plan_policies(root, governor, epp, only, l);
        /* Host-wide: planned once, not for each CPU that comes online. */
        for (size_t i = 0; only < 0 && i < 2; i++) {
                const struct setting *pct = profile_get(p, "cpu", i ? "max_perf_pct" : "min_perf_pct");

                if (pct)
                        plan_perf_pct(root, pct, l);
        }
        if (!epb && !latency)
                return;
        (void) plan_list_numbered(root, CPU_DIR, "cpu", &cpus, &n_cpus);
        if (epb)
                plan_epb(root, cpus, n_cpus, only, epb, l);
        if (latency)
                plan_force_latency(root, cpus, n_cpus, only, latency, l);
}
