/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Memory-pressure-driven KSM, ksmtuned's successor: every ksm_interval,
 * sample memory (/proc/meminfo, /proc/pressure/memory, the memory of the
 * running domains) and KSM (sys/kernel/mm/ksm), decide in a pure function
 * what KSM should do, and apply that through the settings engine so that
 * it is rolled back like every other setting.
 *
 * The pipeline of one tick: ksm_read_state + ksm_read_memory → ksm_decide
 * → ksm_targets → settings_apply → log on a change of run. The pure half
 * is src/tuning/ksm-policy.c, the half that reads and writes
 * src/tuning/ksm.c. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

struct kroot;
struct profile;
struct rollback;
struct target_list;

enum ksm_mode {
        KSM_MODE_OFF,   /* run=0 */
        KSM_MODE_ON,    /* the profile's [ksm] values as written */
        KSM_MODE_AUTO,  /* run while memory is tight */
};

/* The profile's [ksm] section, as the KSM module reads it. */
struct ksm_conf {
        enum ksm_mode mode;
        unsigned interval_sec;
        unsigned threshold_percent;
        int profile_run;            /* the profile's run=, -1 if not set */
        int profile_merge_across_nodes; /* -1 if not set */
        bool use_advisor;           /* false if the profile says advisor_mode=none */
        bool unmerge_for_numa;      /* may unmerge (run=2) to change merge_across_nodes */
        bool unmerge_on_stop;       /* unmerge (run=2) when vmtuned stops or goes off */
        bool in_profile;            /* the profile has a [ksm] section; without, mode=on writes nothing */
};

/* What auto mode decides from. */
struct ksm_memory {
        uint64_t total_kib;         /* MemTotal */
        uint64_t available_kib;     /* MemAvailable */
        bool has_psi;               /* /proc/pressure/memory was readable */
        double psi_some_avg10;      /* percent of time some task stalled on memory */
        double psi_full_avg10;      /* ... every task */
        uint64_t committed_kib;     /* memory of the running domains (the caller sums it), or: */
};

/* committed_kib while libvirt's domain table is not read (vmtuned started
 * before libvirtd, or lost it): the domains' memory neither makes memory
 * tight nor lets it count as plentiful. */
#define KSM_COMMITTED_UNKNOWN UINT64_MAX

/* KSM's knobs and counters as the kernel shows them now. */
struct ksm_state {
        bool present;               /* sys/kernel/mm/ksm/run exists */
        int run;                    /* 0, 1 or 2 */
        long pages_to_scan;
        bool has_advisor;           /* advisor_mode exists (Linux 6.8+) */
        bool advisor_on;            /* advisor_mode is scan-time */
        int merge_across_nodes;     /* -1: no such knob (kernel without NUMA) */
        unsigned n_nodes;           /* NUMA nodes with memory, at least 1: on one,
                                     * merge_across_nodes has no effect */
        uint64_t pages_shared, pages_sharing, pages_unshared, pages_volatile;
        uint64_t full_scans;
        uint64_t ksm_zero_pages;    /* 0 on kernels before 6.10 */
        int64_t general_profit;     /* bytes; can be negative; 0 before Linux 6.1 */
        unsigned page_size_kib;     /* what one merged page saves */
};

/* What KSM should do. -1 / NULL: leave that knob alone. */
struct ksm_decision {
        int run;
        long pages_to_scan;
        const char *advisor_mode;   /* "scan-time", "none" or NULL */
        int merge_across_nodes;
        bool unmerge_first;         /* merge_across_nodes changes while pages are merged
                                     * (only with [ksm] unmerge_for_numa = yes) */
        bool numa_pending;          /* merge_across_nodes wanted but waits for nothing merged */
        char numa[256];             /* why merge_across_nodes is not written (one node,
                                     * pending), for status and verify; "" otherwise */
        bool tight;                 /* auto: memory is tight */
        char reason[384];           /* why, with numbers, for the log and status */
};

/* ksmtuned's boost/decay of pages_to_scan, for kernels without the advisor. */
#define KSM_NPAGES_BOOST 300
#define KSM_NPAGES_DECAY 50
#define KSM_NPAGES_MIN   64
#define KSM_NPAGES_MAX   1250
/* Hysteresis: auto stops merging only this many percentage points above
 * the threshold where it starts. */
#define KSM_HYSTERESIS_PERCENT 5
/* Memory pressure (PSI some avg10, %) that makes memory tight, and the
 * level it must fall below before auto stops. */
#define KSM_PSI_TIGHT  10.0
#define KSM_PSI_EASED  2.0

/* Pure. The [ksm] options of a profile (mode=, ksm_interval=,
 * ksm_threshold_percent=) with their defaults, and the kernel knobs the
 * module must know about (run=, merge_across_nodes=, advisor_mode=). The
 * values were validated when the profile was loaded; -EINVAL if not. */
int ksm_conf_from_profile(const struct profile *p, struct ksm_conf *ret);

/* Pure: the decision. unmerge: the administrator asked for run=2. */
void ksm_decide(const struct ksm_conf *c, const struct ksm_memory *m, const struct ksm_state *s,
                bool unmerge, struct ksm_decision *ret);

/* Pure: the memory an unmerge (run=2) gives back to the merged pages, in
 * KiB; and whether it fits with ksm_threshold_percent of MemTotal still
 * available after it. */
uint64_t ksm_unmerge_kib(const struct ksm_state *s);
bool ksm_unmerge_fits(const struct ksm_conf *c, const struct ksm_memory *m, const struct ksm_state *s);

/* Pure: the writes that carry out a decision, in the order the kernel
 * needs (run=2 before merge_across_nodes while pages are merged; the
 * advisor before run=1). Appends to l. */
void ksm_targets(const struct ksm_decision *d, const struct ksm_state *s, struct target_list *l);

/* Pure: drop from a plan the static targets the KSM module writes itself,
 * so each knob has one writer: run= in modes off and auto, pages_to_scan=
 * and advisor_mode= in auto, merge_across_nodes= always (the kernel takes
 * it only with nothing merged, so the module decides when). settings_plan
 * (plan.h) calls it, so that apply, verify and status leave out the same
 * knobs. With n_memory_nodes <= 1 a profile's merge_across_nodes= gets a
 * note instead: it has no effect with one NUMA node and is never written. */
void ksm_filter_plan(const struct profile *p, unsigned n_memory_nodes, struct target_list *l);

/* Pure: does the KSM module, configured with profile p, write this
 * journal path itself (ksm_filter_plan's knobs, and merge_across_nodes
 * only where p sets it)? A transition to p keeps such an entry, with its
 * original, for the module's next decision instead of restoring it. */
bool ksm_module_keeps(const struct profile *p, const char *path);

/* Pure parsers, on buffers. */
int ksm_parse_meminfo(const char *buf, uint64_t *ret_total_kib, uint64_t *ret_available_kib);
/* /proc/pressure/memory: the avg10 of the "some" and "full" lines. */
int ksm_parse_psi(const char *buf, double *ret_some_avg10, double *ret_full_avg10);

/* /proc/PID/ksm_stat (Linux 6.1+; fields grew up to 6.10). */
struct ksm_proc_stat {
        uint64_t rmap_items;
        uint64_t zero_pages;
        uint64_t merging_pages;
        int64_t process_profit;     /* bytes */
        bool merge_any;             /* prctl(PR_SET_MEMORY_MERGE) */
        bool mergeable;             /* has MADV_MERGEABLE areas */
};
int ksm_parse_proc_stat(const char *buf, struct ksm_proc_stat *ret);

/* Read memory and KSM through the root prefix. -ENODATA: meminfo lacks
 * MemTotal or MemAvailable. A missing KSM leaves state->present false. */
int ksm_read_memory(const struct kroot *root, uint64_t committed_kib, struct ksm_memory *ret);
int ksm_read_state(const struct kroot *root, struct ksm_state *ret);
/* NUMA nodes with memory (sys/devices/system/node/has_memory, else
 * online), at least 1. */
unsigned ksm_count_memory_nodes(const struct kroot *root);
/* proc/PID/ksm_stat; -ENOENT when the process or the file is not there. */
int ksm_read_proc_stat(const struct kroot *root, pid_t pid, struct ksm_proc_stat *ret);

/* --- the module on the event loop ---------------------------------------- */

struct ksm_options {
        const struct kroot *root;
        struct rollback *rollback;  /* the daemon's journal */
        /* The memory of the running domains in KiB (sum of the domain
         * table's memory_kib), KSM_COMMITTED_UNKNOWN before libvirt
         * answered; NULL: none. */
        uint64_t (*committed_kib)(void *userdata);
        void *userdata;
};

struct ksm;

/* event may be NULL: no timer (tests call ksm_tick themselves). */
int ksm_new(sd_event *event, const struct ksm_options *o, struct ksm **ret);
/* Take the running profile's [ksm] section (after settings_apply) and
 * decide at once; NULL pauses the module (vmtunectl off: the settings are
 * rolled back and must stay so). Re-arms the timer with ksm_interval. */
int ksm_configure(struct ksm *k, const struct profile *p);
/* One decision now. Returns -errno only when the rollback journal could
 * not be written (logged here, and the module paused). */
int ksm_tick(struct ksm *k, uint64_t committed_kib);
/* The domains' memory is known now (libvirt answered): mode=auto decides
 * again at once rather than at its next tick, so that its reason does not
 * say "not known" while libvirt is connected. mode=on and off decided
 * once; they are left alone. */
int ksm_domains_known(struct ksm *k);
/* The administrator's run=2 (unmerge everything), held until released
 * with false; takes effect at once (one tick). */
int ksm_set_unmerge(struct ksm *k, bool unmerge);
/* Is a next decision scheduled? Only mode=auto, or a merge_across_nodes
 * waiting for nothing to be merged, wakes the module: mode=on and off
 * decide once, when configured. */
bool ksm_ticking(const struct ksm *k);
/* Before the daemon restores journal entries: pauses the module's
 * decisions, and unmerges first (run=2, journaled; the restore puts run
 * back) only where the configuration asks for it, pages are merged, and
 * the unmerged copies fit with ksm_threshold_percent to spare:
 * - stopping (stop, off) with [ksm] unmerge_on_stop = yes, when vmtuned
 *   changed run (it never unmerges a KSM someone else runs);
 * - restoring_merge_across_nodes (vmtuned changed it and the restore puts
 *   it back) with [ksm] unmerge_for_numa = yes on a host with more than
 *   one memory node: the kernel would refuse the original while merged.
 * Otherwise nothing is written here: a reload or a profile switch never
 * unmerges, and the restore leaves merge_across_nodes in the journal
 * (rollback.h), with a log line saying why. */
int ksm_prepare_restore(struct ksm *k, bool stopping, bool restoring_merge_across_nodes);
void ksm_free(struct ksm *k);

/* For vmtunectl status: the module's view and KSM's counters, read now. */
struct ksm_report {
        bool configured;            /* false: paused (off) or not yet configured */
        bool in_profile;            /* ksm_conf's: false, KSM is left as found */
        enum ksm_mode mode;
        struct ksm_state state;
        bool tight;                 /* of the last decision */
        bool unmerge;               /* the administrator's unmerge holds */
        char reason[384];           /* of the last decision */
        char numa[256];             /* of the last decision: merge_across_nodes not written, why */
};
int ksm_report(struct ksm *k, struct ksm_report *ret);

/* One domain's line of the per-domain table. */
struct ksm_domain_stat {
        const char *name;
        struct ksm_proc_stat stat;
};
/* Text (a few lines) or a JSON object ("ksm": {...}) for vmtunectl status. */
void ksm_report_print(FILE *out, const struct ksm_report *r, const struct ksm_domain_stat *doms,
                      size_t n_doms, bool json);

const char *ksm_mode_to_string(enum ksm_mode m);
