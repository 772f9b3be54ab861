/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Metrics for Prometheus, the way a daemon without a network port exposes
 * them: `vmtunectl metrics` prints them, and with metrics_file= set the
 * daemon rewrites that file (node_exporter's textfile collector reads it)
 * after each apply and every balancer interval.
 *
 * Two halves: metrics_format() (src/daemon/metrics-format.c, pure) turns a
 * snapshot into the Prometheus text exposition format; metrics.c fills the
 * snapshot from what the daemon already holds (as `vmtunectl status` does)
 * and writes the file. Nothing is sampled for the metrics alone. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

struct daemon;

/* Settings of one section ("sysctl", "vm", "disk", "ksm", ...) by what a
 * verify finds now. */
enum metrics_setting_state {
        METRICS_SETTING_OK,
        METRICS_SETTING_ADJUSTED,
        METRICS_SETTING_DRIFTED,
        METRICS_SETTING_SKIPPED,
        _METRICS_SETTING_MAX,
};

/* Why the balancer moved a VM: the label of vmtuned_balancer_moves_total. */
enum metrics_move_reason {
        METRICS_MOVE_REBALANCE,     /* vCPUs to a less busy node */
        METRICS_MOVE_PLACE,         /* a new VM placed */
        METRICS_MOVE_SWAP,          /* one half of a swap */
        METRICS_MOVE_REVERT,        /* probation failed: back where it came from */
        METRICS_MOVE_MEMORY,        /* memory following the vCPUs */
        _METRICS_MOVE_REASON_MAX,
};

struct metrics_section {
        char *name;
        unsigned count[_METRICS_SETTING_MAX];
};

struct metrics_node {
        unsigned id;
        unsigned cpus;
        double nr_running;          /* runnable threads, averaged over the balancer interval */
        uint64_t mem_total_bytes;
        uint64_t mem_free_bytes;
};

/* A running domain: outside input, every character possible in its name. */
struct metrics_domain {
        char *name;
        char *uuid;
        unsigned *nodes;            /* the NUMA nodes its vCPUs may run on, ascending */
        size_t n_nodes;
        double local_memory_ratio;  /* resident memory on those nodes / all resident; < 0: unknown */
};

struct metrics_snapshot {
        const char *version;
        uint64_t start_time_usec;   /* CLOCK_REALTIME */
        const char *profile;
        const char *profile_source; /* profile_source_to_string() */
        bool applied;
        bool dry_run;
        uint64_t applied_since_usec; /* CLOCK_REALTIME of the last apply; 0: none */
        unsigned apply_changed, apply_already_set, apply_skipped; /* of the last apply */
        bool have_verify;           /* sections filled: the settings are applied */
        struct metrics_section *sections;
        size_t n_sections;
        bool libvirt_connected;
        size_t n_domains_running;
        bool have_balancer;
        uint64_t balancer_ticks, balancer_moves_failed, balancer_reverts;
        uint64_t balancer_moves[_METRICS_MOVE_REASON_MAX];
        /* How long the ticks took (sample, decide, move): the last one
         * and the sum over balancer_tick_count ticks, in µs. */
        uint64_t balancer_last_tick_duration_usec, balancer_tick_duration_usec_sum, balancer_tick_count;
        uint64_t balancer_migrated_bytes;
        uint64_t balancer_last_tick_usec; /* CLOCK_REALTIME; 0: no tick yet */
        struct metrics_node *nodes; /* of the balancer's last measurement */
        size_t n_nodes;
        struct metrics_domain *domains;
        size_t n_domains;
        bool have_ksm;
        uint64_t ksm_pages_sharing;
        int64_t ksm_general_profit_bytes;
};

/* Pure: the text exposition format (version 0.0.4, which node_exporter's
 * textfile collector reads): # HELP and # TYPE before each family, names
 * prefixed vmtuned_, units in the names. */
void metrics_format(FILE *out, const struct metrics_snapshot *s);

/* Pure: a label value as the format wants it between its quotes:
 * backslash, double quote and line feed escaped, and bytes that are not
 * UTF-8 replaced by U+FFFD (a collector rejects the whole file otherwise).
 * malloc'd. */
char *metrics_label_escape(const char *s);

/* Fill a snapshot from the daemon's state, as `vmtunectl status` gathers
 * it (a verify of the applied settings, the KSM report). */
void metrics_gather(struct daemon *d, struct metrics_snapshot *ret);
void metrics_snapshot_done(struct metrics_snapshot *s);

/* The module that keeps metrics_file= written: a timer of the balancer's
 * interval. Created at start, freed when the loop exits. */
struct metrics;

/* Notes the start time (vmtuned_start_time_seconds); writes nothing yet. */
int metrics_new(sd_event *event, struct daemon *d, struct metrics **ret);
/* Write the file now (after an apply, a switch, off or a reload) and
 * re-arm the timer with the configuration's interval; a changed
 * metrics_file= (reload) removes the file written before. NULL: nothing. */
void metrics_update(struct metrics *m);
/* Also removes the file: a stopped vmtuned reports nothing. */
void metrics_free(struct metrics *m);
