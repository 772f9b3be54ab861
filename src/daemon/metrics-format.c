/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Prometheus text exposition format of a metrics snapshot (see
 * include/daemon/metrics.h). Pure: a snapshot in, text out. The format:
 * https://prometheus.io/docs/instrumenting/exposition_formats/ */
#include "daemon/metrics.h"

#include <inttypes.h>
#include <math.h>

#include "base/utf8.h"
#include "base/util.h"

char *metrics_label_escape(const char *s)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                abort(); /* out of memory, as xmalloc */
        while (*s) {
                bool valid;
                size_t len = utf8_sequence((const unsigned char *) s, &valid);

                if (!valid)
                        fputs("\xef\xbf\xbd", f); /* U+FFFD */
                else if (*s == '\\')
                        fputs("\\\\", f);
                else if (*s == '"')
                        fputs("\\\"", f);
                else if (*s == '\n')
                        fputs("\\n", f);
                else
                        fwrite(s, 1, len, f);
                s += len;
        }
        fclose(f);
        return buf;
}

static const char *const state_labels[_METRICS_SETTING_MAX] = {
        [METRICS_SETTING_OK] = "ok",
        [METRICS_SETTING_ADJUSTED] = "adjusted",
        [METRICS_SETTING_DRIFTED] = "drifted",
        [METRICS_SETTING_SKIPPED] = "skipped",
};

/* The help texts are ours: no backslash or line feed to escape. */
static void family(FILE *out, const char *name, const char *type, const char *help)
{
        fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void label(FILE *out, const char *sep, const char *name, const char *value)
{
        _cleanup_free_ char *v = metrics_label_escape(value ? value : "");

        fprintf(out, "%s%s=\"%s\"", sep, name, v);
}

static void sample_u64(FILE *out, const char *name, const char *type, const char *help, uint64_t value)
{
        family(out, name, type, help);
        fprintf(out, "%s %" PRIu64 "\n", name, value);
}

/* Go's strconv.ParseFloat reads what %.17g writes, and "NaN", "+Inf". */
static void print_double(FILE *out, double v)
{
        if (isnan(v))
                fputs("NaN", out);
        else if (isinf(v))
                fputs(v > 0 ? "+Inf" : "-Inf", out);
        else
                fprintf(out, "%.17g", v);
}

/* µs as seconds, exactly (no rounding through a double), and the line's end. */
static void print_usec(FILE *out, uint64_t usec)
{
        fprintf(out, "%" PRIu64 ".%06" PRIu64 "\n", usec / 1000000, usec % 1000000);
}

/* A point in time (CLOCK_REALTIME, µs) as seconds since the epoch. */
static void sample_seconds(FILE *out, const char *name, const char *help, uint64_t usec)
{
        family(out, name, "gauge", help);
        fprintf(out, "%s ", name);
        print_usec(out, usec);
}

static void format_daemon(FILE *out, const struct metrics_snapshot *s)
{
        family(out, "vmtuned_build_info", "gauge", "The vmtuned version running, always 1.");
        label(out, "vmtuned_build_info{", "version", s->version);
        fputs("} 1\n", out);
        sample_seconds(out, "vmtuned_start_time_seconds", "When the daemon started, in seconds since the epoch.",
                       s->start_time_usec);
        family(out, "vmtuned_profile_info", "gauge",
               "The profile selected, and who chose it (command-line, vmtunectl, configuration-file, "
               "built-in-default), always 1.");
        label(out, "vmtuned_profile_info{", "profile", s->profile);
        label(out, ",", "source", s->profile_source);
        fputs("} 1\n", out);
        sample_u64(out, "vmtuned_applied", "gauge",
                   "1 if the profile's settings are in place, 0 after vmtunectl off.", s->applied);
        sample_u64(out, "vmtuned_dry_run", "gauge", "1 if the daemon runs with --dry-run and writes nothing.",
                   s->dry_run);
        if (s->applied_since_usec)
                sample_seconds(out, "vmtuned_last_apply_timestamp_seconds",
                               "When the profile was last applied, in seconds since the epoch.", s->applied_since_usec);
        family(out, "vmtuned_last_apply_settings", "gauge",
               "Settings of the last apply: written (changed), already at the value, or skipped.");
        fprintf(out, "vmtuned_last_apply_settings{result=\"changed\"} %u\n", s->apply_changed);
        fprintf(out, "vmtuned_last_apply_settings{result=\"already_set\"} %u\n", s->apply_already_set);
        fprintf(out, "vmtuned_last_apply_settings{result=\"skipped\"} %u\n", s->apply_skipped);
}

static void format_settings(FILE *out, const struct metrics_snapshot *s)
{
        if (!s->have_verify)
                return;
        family(out, "vmtuned_settings", "gauge",
               "Settings of the applied profile by section and by what the kernel holds now: ok, adjusted "
               "(what the kernel made of the write), drifted (changed since), skipped (not on this kernel).");
        for (size_t i = 0; i < s->n_sections; i++)
                for (size_t st = 0; st < _METRICS_SETTING_MAX; st++) {
                        label(out, "vmtuned_settings{", "section", s->sections[i].name);
                        fprintf(out, ",state=\"%s\"} %u\n", state_labels[st], s->sections[i].count[st]);
                }
}

static const char *const move_reason_labels[_METRICS_MOVE_REASON_MAX] = {
        [METRICS_MOVE_REBALANCE] = "rebalance",
        [METRICS_MOVE_PLACE] = "place",
        [METRICS_MOVE_SWAP] = "swap",
        [METRICS_MOVE_REVERT] = "revert",
        [METRICS_MOVE_MEMORY] = "memory",
};

static void format_balancer(FILE *out, const struct metrics_snapshot *s)
{
        if (!s->have_balancer)
                return;
        sample_u64(out, "vmtuned_balancer_ticks_total", "counter", "Balancer ticks since start.",
                   s->balancer_ticks);
        /* By reason, every reason always present (0 included), so that
         * rate() sees a move of a kind the first time it happens; sum()
         * over them is the unlabelled total of before. */
        family(out, "vmtuned_balancer_moves_total", "counter",
               "Moves of a VM's vCPUs or memory carried out since start, by reason: rebalance (vCPUs to a less "
               "busy node), place (a new VM), swap (one half of a swap), revert (probation failed), memory "
               "(memory following its vCPUs).");
        for (size_t r = 0; r < _METRICS_MOVE_REASON_MAX; r++)
                fprintf(out, "vmtuned_balancer_moves_total{reason=\"%s\"} %" PRIu64 "\n", move_reason_labels[r],
                        s->balancer_moves[r]);
        sample_u64(out, "vmtuned_balancer_moves_failed_total", "counter", "Moves that failed since start.",
                   s->balancer_moves_failed);
        sample_u64(out, "vmtuned_balancer_reverts_total", "counter",
                   "Moves undone since start because the imbalance did not improve (probation failed).",
                   s->balancer_reverts);
        sample_u64(out, "vmtuned_balancer_migrated_bytes_total", "counter",
                   "VM memory migrated between NUMA nodes since start.", s->balancer_migrated_bytes);
        if (s->balancer_last_tick_usec)
                sample_seconds(out, "vmtuned_balancer_last_tick_timestamp_seconds",
                               "When the balancer last ticked, in seconds since the epoch.", s->balancer_last_tick_usec);
        if (!s->balancer_tick_count)
                return;
        family(out, "vmtuned_balancer_last_tick_duration_seconds", "gauge",
               "How long the last balancer tick took: sampling, the decision and the moves it carried out.");
        fputs("vmtuned_balancer_last_tick_duration_seconds ", out);
        print_usec(out, s->balancer_last_tick_duration_usec);
        family(out, "vmtuned_balancer_tick_seconds", "summary",
               "How long balancer ticks took since start (rate of _sum over rate of _count: the mean).");
        fputs("vmtuned_balancer_tick_seconds_sum ", out);
        print_usec(out, s->balancer_tick_duration_usec_sum);
        fprintf(out, "vmtuned_balancer_tick_seconds_count %" PRIu64 "\n", s->balancer_tick_count);
}

static void format_nodes(FILE *out, const struct metrics_snapshot *s)
{
        static const struct {
                const char *name, *help;
        } fam[] = {
                { "vmtuned_node_cpus", "CPUs of the NUMA node." },
                { "vmtuned_node_runnable_threads", "Runnable threads on the node's CPUs, averaged over the "
                                                   "balancer interval." },
                { "vmtuned_node_load_ratio", "Runnable threads per CPU of the node (the balancer's load)." },
                { "vmtuned_node_memory_total_bytes", "Memory of the NUMA node." },
                { "vmtuned_node_memory_free_bytes", "Free memory of the NUMA node." },
        };

        if (s->n_nodes == 0)
                return;
        for (size_t f = 0; f < ARRAY_SIZE(fam); f++) {
                family(out, fam[f].name, "gauge", fam[f].help);
                for (size_t i = 0; i < s->n_nodes; i++) {
                        const struct metrics_node *n = &s->nodes[i];

                        fprintf(out, "%s{node=\"%u\"} ", fam[f].name, n->id);
                        switch (f) {
                        case 0: fprintf(out, "%u", n->cpus); break;
                        case 1: print_double(out, n->nr_running); break;
                        case 2: print_double(out, n->cpus ? n->nr_running / n->cpus : 0); break;
                        case 3: fprintf(out, "%" PRIu64, n->mem_total_bytes); break;
                        default: fprintf(out, "%" PRIu64, n->mem_free_bytes); break;
                        }
                        fputc('\n', out);
                }
        }
}

static void domain_labels(FILE *out, const struct metrics_domain *d)
{
        label(out, "{", "domain", d->name);
        label(out, ",", "uuid", d->uuid);
}

static void format_domains(FILE *out, const struct metrics_snapshot *s)
{
        bool any_node = false, any_ratio = false;

        sample_u64(out, "vmtuned_libvirt_connected", "gauge", "1 while the daemon is connected to libvirt.",
                   s->libvirt_connected);
        sample_u64(out, "vmtuned_domains_running", "gauge", "Running libvirt domains the daemon follows.",
                   s->n_domains_running);
        /* A family without a sample is valid, but says nothing: left out
         * too (domains without a process, such as libvirt's test driver's). */
        for (size_t i = 0; i < s->n_domains; i++) {
                any_node |= s->domains[i].n_nodes > 0;
                any_ratio |= s->domains[i].local_memory_ratio >= 0;
        }
        if (any_node)
                family(out, "vmtuned_domain_node_info", "gauge",
                       "The NUMA nodes a running domain's vCPUs may run on, one series per node, always 1.");
        for (size_t i = 0; i < s->n_domains; i++)
                for (size_t j = 0; j < s->domains[i].n_nodes; j++) {
                        fputs("vmtuned_domain_node_info", out);
                        domain_labels(out, &s->domains[i]);
                        fprintf(out, ",node=\"%u\"} 1\n", s->domains[i].nodes[j]);
                }
        if (!any_ratio)
                return;
        family(out, "vmtuned_domain_local_memory_ratio", "gauge",
               "Share of a running domain's resident memory on the nodes its vCPUs run on (1: all local).");
        for (size_t i = 0; i < s->n_domains; i++) {
                if (s->domains[i].local_memory_ratio < 0)
                        continue;
                fputs("vmtuned_domain_local_memory_ratio", out);
                domain_labels(out, &s->domains[i]);
                fputs("} ", out);
                print_double(out, s->domains[i].local_memory_ratio);
                fputc('\n', out);
        }
}

static void format_ksm(FILE *out, const struct metrics_snapshot *s)
{
        if (!s->have_ksm)
                return;
        sample_u64(out, "vmtuned_ksm_pages_sharing", "gauge",
                   "Pages KSM deduplicated: how many more sites share a merged page.", s->ksm_pages_sharing);
        family(out, "vmtuned_ksm_general_profit_bytes", "gauge",
               "Memory KSM saves, its metadata subtracted (general_profit; 0 before Linux 6.1).");
        fprintf(out, "vmtuned_ksm_general_profit_bytes %" PRId64 "\n", s->ksm_general_profit_bytes);
}

void metrics_format(FILE *out, const struct metrics_snapshot *s)
{
        format_daemon(out, s);
        format_settings(out, s);
        format_domains(out, s);
        format_balancer(out, s);
        format_nodes(out, s);
        format_ksm(out, s);
}
