/* SPDX-License-Identifier: GPL-2.0-or-later */
/* KSM, the half that touches the kernel: read memory and KSM through the
 * root prefix, run the decision every ksm_interval on the event loop, and
 * write what it wants through the settings engine, so every value is in
 * the rollback journal before it changes. The decision is in
 * src/tuning/ksm-policy.c. */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>

#include "base/kfile.h"
#include "tuning/ksm.h"
#include "base/log.h"
#include "base/bitmap.h"
#include "config/profile.h"
#include "tuning/rollback.h"
#include "tuning/apply.h"

#define KSM_DIR "sys/kernel/mm/ksm/"
#define USEC_PER_SEC UINT64_C(1000000)

struct ksm {
        sd_event *event;
        sd_event_source *timer;
        const struct kroot *root;
        struct rollback *rb;
        uint64_t (*committed_kib)(void *userdata);
        void *userdata;

        bool configured;            /* false: paused, no tick writes anything */
        struct ksm_conf conf;
        bool unmerge;
        struct ksm_decision last;   /* of the last tick */
        bool logged;                /* a state was logged: later ones only on change */
        int logged_run;
};

/* --- reading ----------------------------------------------------------------- */

/* An unsigned counter; a missing file (an older kernel) reads as 0. */
static int read_u64(const struct kroot *root, const char *knob, uint64_t *ret)
{
        _cleanup_free_ char *path = xasprintf(KSM_DIR "%s", knob);
        int r = kfile_read_u64(root, path, ret);

        if (r == -ENOENT)
                *ret = 0;
        return r == -ENOENT ? 0 : r;
}

static int read_long(const struct kroot *root, const char *knob, long def, long *ret)
{
        _cleanup_free_ char *path = xasprintf(KSM_DIR "%s", knob);
        int r = kfile_read_long(root, path, LONG_MIN, LONG_MAX, ret);

        if (r == -ENOENT)
                *ret = def;
        return r == -ENOENT ? 0 : r;
}

unsigned ksm_count_memory_nodes(const struct kroot *root)
{
        struct bitmap nodes = {};
        unsigned n = 0;

        /* A node of CPUs only (or memory-less) holds no page KSM merges. */
        if (kfile_read_list(root, "sys/devices/system/node/has_memory", &nodes) >= 0)
                n = bitmap_count(&nodes);
        else if (kfile_read_list(root, "sys/devices/system/node/online", &nodes) >= 0)
                n = bitmap_count(&nodes);
        bitmap_done(&nodes);
        return n > 0 ? n : 1;
}

int ksm_read_state(const struct kroot *root, struct ksm_state *ret)
{
        struct ksm_state s = { .merge_across_nodes = -1 };
        long run, pages, man, profit;
        char advisor[64];
        int r;

        r = read_long(root, "run", -1, &run);
        if (r < 0)
                return r;
        if (run < 0) {
                *ret = (struct ksm_state){ .merge_across_nodes = -1, .n_nodes = 1 };
                return 0;
        }
        r = read_long(root, "pages_to_scan", 0, &pages);
        if (r >= 0)
                r = read_long(root, "merge_across_nodes", -1, &man);
        if (r >= 0)
                r = read_long(root, "general_profit", 0, &profit);
        if (r >= 0)
                r = read_u64(root, "pages_shared", &s.pages_shared);
        if (r >= 0)
                r = read_u64(root, "pages_sharing", &s.pages_sharing);
        if (r >= 0)
                r = read_u64(root, "pages_unshared", &s.pages_unshared);
        if (r >= 0)
                r = read_u64(root, "pages_volatile", &s.pages_volatile);
        if (r >= 0)
                r = read_u64(root, "full_scans", &s.full_scans);
        if (r >= 0)
                r = read_u64(root, "ksm_zero_pages", &s.ksm_zero_pages);
        if (r < 0)
                return r;
        r = kfile_read_value(root, KSM_DIR "advisor_mode", advisor, sizeof(advisor));
        if (r < 0 && r != -ENOENT)
                return r;
        s.present = true;
        s.run = (int) run;
        s.pages_to_scan = pages;
        s.merge_across_nodes = (int) man;
        s.general_profit = profit;
        s.has_advisor = r >= 0;
        s.advisor_on = r >= 0 && streq(advisor, "scan-time");
        s.n_nodes = ksm_count_memory_nodes(root);
        s.page_size_kib = (unsigned) (sysconf(_SC_PAGESIZE) / 1024);
        *ret = s;
        return 0;
}

int ksm_read_memory(const struct kroot *root, uint64_t committed_kib, struct ksm_memory *ret)
{
        struct ksm_memory m = { .committed_kib = committed_kib };
        char buf[8192];
        int r;

        r = kfile_read(root, "proc/meminfo", buf, sizeof(buf));
        if (r < 0)
                return r;
        r = ksm_parse_meminfo(buf, &m.total_kib, &m.available_kib);
        if (r < 0)
                return r;
        /* No PSI (CONFIG_PSI off, psi=0): decide from the rest. */
        if (kfile_read(root, "proc/pressure/memory", buf, sizeof(buf)) >= 0 &&
            ksm_parse_psi(buf, &m.psi_some_avg10, &m.psi_full_avg10) >= 0)
                m.has_psi = true;
        *ret = m;
        return 0;
}

int ksm_read_proc_stat(const struct kroot *root, pid_t pid, struct ksm_proc_stat *ret)
{
        _cleanup_free_ char *path = xasprintf("proc/%d/ksm_stat", (int) pid);
        char buf[1024];
        int r;

        if (pid <= 0)
                return -ENOENT;
        r = kfile_read(root, path, buf, sizeof(buf));
        if (r < 0)
                return r;
        return ksm_parse_proc_stat(buf, ret);
}

/* --- one tick ------------------------------------------------------------------ */

static void log_state(struct ksm *k, const struct ksm_decision *d, const struct ksm_state *s)
{
        int run = d->run >= 0 ? d->run : s->run;
        char run_str[8], mode[32];

        /* On a change of run only: "tight" alone flips whenever memory
         * wanders across the threshold while KSM keeps merging. */
        if (k->logged && run == k->logged_run)
                return;
        snprintf(run_str, sizeof(run_str), "%d", run);
        snprintf(mode, sizeof(mode), k->conf.in_profile ? "mode=%s" : "no [ksm] in the profile",
                 ksm_mode_to_string(k->conf.mode));
        log_event(LOG_NOTICE, run == 1 ? MSGID_KSM_STARTED : run == 2 ? MSGID_KSM_UNMERGING : MSGID_KSM_STOPPED,
                  LOG_FIELDS({ "VMTUNED_KSM_MODE", k->conf.in_profile ? ksm_mode_to_string(k->conf.mode) : "none" },
                             { "VMTUNED_KSM_RUN", run_str }, { "VMTUNED_PAGES", LOG_U64(s->pages_sharing) },
                             { "VMTUNED_PROFIT_BYTES", LOG_I64(s->general_profit) }),
                  "KSM %s (%s): %s; pages_sharing %" PRIu64 ", pages_shared %" PRIu64
                  ", ksm_zero_pages %" PRIu64 ", general_profit %" PRId64 " bytes",
                  run == 1 ? "merging" : run == 2 ? "unmerged" : "stopped", mode,
                  d->reason, s->pages_sharing, s->pages_shared, s->ksm_zero_pages, s->general_profit);
        k->logged = true;
        k->logged_run = run;
}

/* Apply targets; a journal failure pauses the module: nothing may be
 * written without its original on disk. */
static int apply(struct ksm *k, const struct target_list *t)
{
        struct apply_stats st;
        int r;

        if (t->n == 0)
                return 0;
        r = settings_apply(k->root, k->rb, t, &st);
        if (r < 0) {
                k->configured = false;
                (void) log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                                       "KSM: cannot update the rollback journal %s: %m; decisions paused "
                                       "until the next reload or profile switch", k->rb->file);
        }
        return r;
}

int ksm_tick(struct ksm *k, uint64_t committed_kib)
{
        struct target_list targets = {};
        struct ksm_memory m = {};
        struct ksm_decision d;
        struct ksm_state s;
        int r;

        if (!k->configured)
                return 0;
        r = ksm_read_state(k->root, &s);
        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_KSM_READ_FAILED, NULL,
                                       "KSM: cannot read %s" KSM_DIR ": %m; skipping this decision",
                                       k->root->path);
                return 0;
        }
        r = ksm_read_memory(k->root, committed_kib, &m);
        if (r < 0 && k->conf.mode == KSM_MODE_AUTO)
                (void) log_event_errno(LOG_WARNING, r, MSGID_KSM_READ_FAILED, NULL,
                                       "KSM: cannot read memory figures under %s: %m", k->root->path);

        ksm_decide(&k->conf, &m, &s, k->unmerge, &d);
        if (d.unmerge_first)
                log_event(LOG_NOTICE, MSGID_KSM_UNMERGING,
                          LOG_FIELDS({ "VMTUNED_KEY", "ksm merge_across_nodes" },
                                     { "VMTUNED_PAGES", LOG_U64(s.pages_sharing) }),
                          "KSM: merge_across_nodes %d -> %d, and the kernel changes it only with nothing "
                          "merged: unmerging %" PRIu64 " pages (run=2, unmerge_for_numa = yes), then run=%d again",
                          s.merge_across_nodes, d.merge_across_nodes, s.pages_sharing,
                          d.run >= 0 ? d.run : s.run);
        ksm_targets(&d, &s, &targets);
        r = apply(k, &targets);
        target_list_free(&targets);
        k->last = d;
        if (r < 0)
                return r;
        log_state(k, &d, &s);
        return 0;
}

/* --- the module on the loop ------------------------------------------------------ */

static uint64_t committed(struct ksm *k)
{
        return k->committed_kib ? k->committed_kib(k->userdata) : 0;
}

/* Only what can change a decision wakes the module: mode=auto's memory
 * figures, or a merge_across_nodes waiting for nothing to be merged.
 * mode=on and mode=off decide once, when configured; status reads KSM's
 * counters when asked. */
static bool wants_ticks(const struct ksm *k)
{
        return k->configured && (k->conf.mode == KSM_MODE_AUTO || k->last.numa_pending);
}

bool ksm_ticking(const struct ksm *k)
{
        int enabled = SD_EVENT_OFF;

        return k->timer && sd_event_source_get_enabled(k->timer, &enabled) >= 0 && enabled != SD_EVENT_OFF;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct ksm *k = userdata;

        (void) ksm_tick(k, committed(k));
        (void) sd_event_source_set_time_relative(s, k->conf.interval_sec * USEC_PER_SEC);
        return sd_event_source_set_enabled(s, wants_ticks(k) ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
}

int ksm_new(sd_event *event, const struct ksm_options *o, struct ksm **ret)
{
        struct ksm *k = xcalloc(1, sizeof(*k));
        int r;

        *k = (struct ksm){ .event = sd_event_ref(event), .root = o->root, .rb = o->rollback,
                           .committed_kib = o->committed_kib, .userdata = o->userdata };
        if (event) {
                r = sd_event_add_time_relative(event, &k->timer, CLOCK_MONOTONIC, 10 * USEC_PER_SEC,
                                               USEC_PER_SEC / 10, on_timer, k);
                if (r >= 0)
                        r = sd_event_source_set_enabled(k->timer, SD_EVENT_OFF);
                if (r >= 0)
                        (void) sd_event_source_set_description(k->timer, "ksm");
                if (r < 0) {
                        ksm_free(k);
                        return r;
                }
        }
        *ret = k;
        return 0;
}

int ksm_configure(struct ksm *k, const struct profile *p)
{
        struct ksm_conf c;
        int r;

        if (!p) {
                k->configured = false;
                return k->timer ? sd_event_source_set_enabled(k->timer, SD_EVENT_OFF) : 0;
        }
        r = ksm_conf_from_profile(p, &c);
        if (r < 0)
                return r;       /* the profile was validated: a bug, not the administrator's error */
        if (c.mode == KSM_MODE_AUTO && c.profile_run >= 0)
                log_notice("KSM: [ksm] run=%d ignored: mode=auto decides when KSM runs", c.profile_run);
        k->conf = c;
        k->configured = true;
        k->logged = false;
        r = ksm_tick(k, committed(k));
        if (r < 0)
                return r;
        if (!k->timer)
                return 0;
        r = sd_event_source_set_time_relative(k->timer, c.interval_sec * USEC_PER_SEC);
        if (r >= 0) /* a fifth of slack: one wakeup with the balancer's */
                r = sd_event_source_set_time_accuracy(k->timer, c.interval_sec * USEC_PER_SEC / 5);
        if (r >= 0)
                r = sd_event_source_set_enabled(k->timer, wants_ticks(k) ? SD_EVENT_ONESHOT : SD_EVENT_OFF);
        return r;
}

int ksm_domains_known(struct ksm *k)
{
        if (!k || !k->configured || k->conf.mode != KSM_MODE_AUTO)
                return 0;
        return ksm_tick(k, committed(k));
}

int ksm_set_unmerge(struct ksm *k, bool unmerge)
{
        k->unmerge = unmerge;
        return ksm_tick(k, committed(k));
}

/* Why an unmerge before a restore is wanted (a log phrase), or NULL. */
static const char *unmerge_reason(const struct ksm *k, const struct ksm_state *s, bool stopping,
                                  bool restoring_merge_across_nodes)
{
        if (stopping && k->conf.unmerge_on_stop && rollback_find(k->rb, KSM_DIR "run"))
                return "unmerge_on_stop = yes";
        /* Where the knob decides nothing, no unmerge for it (rollback.c
         * says why the restore then leaves it). */
        if (restoring_merge_across_nodes && k->conf.unmerge_for_numa && s->n_nodes > 1)
                return "unmerge_for_numa = yes, so that merge_across_nodes can be restored";
        return NULL;
}

int ksm_prepare_restore(struct ksm *k, bool stopping, bool restoring_merge_across_nodes)
{
        struct target_list t = {};
        struct ksm_memory m = {};
        struct ksm_state s;
        const char *why;
        int r;

        k->configured = false;
        if (k->timer)
                (void) sd_event_source_set_enabled(k->timer, SD_EVENT_OFF);
        if (ksm_read_state(k->root, &s) < 0 || (s.pages_shared == 0 && s.pages_sharing == 0) || s.run == 2)
                return 0;
        why = unmerge_reason(k, &s, stopping, restoring_merge_across_nodes);
        if (!why)
                return 0;
        if (ksm_read_memory(k->root, committed(k), &m) < 0 || !ksm_unmerge_fits(&k->conf, &m, &s)) {
                log_event(LOG_WARNING, MSGID_KSM_UNMERGE_SKIPPED,
                          LOG_FIELDS({ "VMTUNED_KEY", "ksm run" }, { "VMTUNED_PAGES", LOG_U64(s.pages_sharing) }),
                          "KSM: not unmerging %" PRIu64 " pages (%" PRIu64 " KiB; MemAvailable %" PRIu64
                          " KiB, %u%% kept free) although %s: the copies would not fit",
                          s.pages_sharing, ksm_unmerge_kib(&s), m.available_kib, k->conf.threshold_percent, why);
                return 0;
        }
        log_event(LOG_NOTICE, MSGID_KSM_UNMERGING,
                  LOG_FIELDS({ "VMTUNED_KEY", "ksm run" }, { "VMTUNED_PAGES", LOG_U64(s.pages_sharing) }),
                  "KSM: unmerging %" PRIu64 " pages (run=2, %s)", s.pages_sharing, why);
        t.v = xcalloc(1, sizeof(*t.v));
        t.v[t.n++] = (struct target){ .key = xstrdup("ksm run"), .path = xstrdup(KSM_DIR "run"),
                                      .value = xstrdup("2"),
                                      .source = xasprintf("vmtuned ksm: %s", why) };
        r = settings_apply(k->root, k->rb, &t, &(struct apply_stats){});
        target_list_free(&t);
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                                       "KSM: cannot update the rollback journal %s: %m; not unmerging",
                                       k->rb->file);
        return r;
}

int ksm_report(struct ksm *k, struct ksm_report *ret)
{
        struct ksm_report rep = { .configured = k->configured, .in_profile = k->conf.in_profile,
                                  .mode = k->conf.mode, .tight = k->last.tight,
                                  .unmerge = k->unmerge };
        int r;

        r = ksm_read_state(k->root, &rep.state);
        if (r < 0)
                return r;
        snprintf(rep.reason, sizeof(rep.reason), "%s", k->last.reason);
        snprintf(rep.numa, sizeof(rep.numa), "%s", k->configured ? k->last.numa : "");
        *ret = rep;
        return 0;
}

void ksm_free(struct ksm *k)
{
        if (!k)
                return;
        sd_event_source_disable_unref(k->timer);
        sd_event_unref(k->event);
        free(k);
}
