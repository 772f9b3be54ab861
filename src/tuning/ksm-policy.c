/* SPDX-License-Identifier: GPL-2.0-or-later */
/* KSM, the pure half: the [ksm] options of a profile, the parsers of
 * /proc/meminfo, /proc/pressure/memory and /proc/PID/ksm_stat, the
 * decision (ksm_decide) and the writes that carry it out (ksm_targets).
 * The half that reads the kernel and runs on the event loop is
 * src/tuning/ksm.c. */
#include "tuning/ksm.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "config/option.h"
#include "base/json.h"
#include "config/profile.h"
#include "tuning/target.h"
#include "base/util.h"

#define KSM_DIR "sys/kernel/mm/ksm/"

/* The kernel's pages_to_scan when the advisor is switched off. */
#define KSM_DEFAULT_PAGES_TO_SCAN 100

const char *ksm_mode_to_string(enum ksm_mode m)
{
        static const char *const names[] = { [KSM_MODE_OFF] = "off", [KSM_MODE_ON] = "on",
                                             [KSM_MODE_AUTO] = "auto" };

        return (unsigned) m < ARRAY_SIZE(names) ? names[m] : "?";
}

/* --- configuration ------------------------------------------------------- */

/* A [ksm] value, or the default of its row in profile_keys[] (one table
 * for the man page, validation and this); NULL if neither. */
static const char *get_value(const struct profile *p, const char *key)
{
        const struct setting *s = profile_get(p, "ksm", key);
        const struct setting_key *k = profile_key_lookup("ksm", key);

        return s ? s->value : k ? k->check->default_value : NULL;
}

/* An integer in its row's range; -1 when not set and without default. */
static int get_long(const struct profile *p, const char *key, long *ret)
{
        const struct setting_key *k = profile_key_lookup("ksm", key);
        const char *v = get_value(p, key);

        if (!v) {
                *ret = -1;
                return 0;
        }
        return parse_long(v, k->check->min, k->check->max, ret) < 0 ? -EINVAL : 0;
}

int ksm_conf_from_profile(const struct profile *p, struct ksm_conf *ret)
{
        const char *mode = get_value(p, "mode"), *advisor = get_value(p, "advisor_mode");
        const char *unmerge = get_value(p, "unmerge_for_numa"), *on_stop = get_value(p, "unmerge_on_stop");
        struct ksm_conf c = {};
        long interval, threshold, run, man;

        if (streq_ptr(mode, "off"))
                c.mode = KSM_MODE_OFF;
        else if (streq_ptr(mode, "on"))
                c.mode = KSM_MODE_ON;
        else if (streq_ptr(mode, "auto"))
                c.mode = KSM_MODE_AUTO;
        else
                return -EINVAL;
        if (get_long(p, "ksm_interval", &interval) < 0 || interval < 1 ||
            get_long(p, "ksm_threshold_percent", &threshold) < 0 || threshold < 0 ||
            get_long(p, "run", &run) < 0 || get_long(p, "merge_across_nodes", &man) < 0 ||
            !unmerge || option_parse_bool(unmerge, &c.unmerge_for_numa) < 0 ||
            !on_stop || option_parse_bool(on_stop, &c.unmerge_on_stop) < 0)
                return -EINVAL;
        c.interval_sec = (unsigned) interval;
        c.threshold_percent = (unsigned) threshold;
        c.profile_run = (int) run;
        c.profile_merge_across_nodes = (int) man;
        c.use_advisor = !streq_ptr(advisor, "none");
        for (size_t i = 0; i < p->n_settings && !c.in_profile; i++)
                c.in_profile = streq(p->settings[i].section, "ksm");
        *ret = c;
        return 0;
}

/* Does the module write this [ksm] knob itself in this mode? */
static bool module_owns(const struct ksm_conf *c, const char *knob)
{
        if (streq(knob, "merge_across_nodes"))
                return true;    /* the kernel takes it only with nothing merged */
        if (streq(knob, "run"))
                return c->mode != KSM_MODE_ON;
        if (streq(knob, "pages_to_scan") || streq(knob, "advisor_mode"))
                return c->mode == KSM_MODE_AUTO;
        return false;
}

bool ksm_module_keeps(const struct profile *p, const char *path)
{
        struct ksm_conf c;

        if (!startswith(path, KSM_DIR) || ksm_conf_from_profile(p, &c) < 0)
                return false;
        path += strlen(KSM_DIR);
        if (streq(path, "merge_across_nodes"))
                return c.profile_merge_across_nodes >= 0;
        return module_owns(&c, path);
}

void ksm_filter_plan(const struct profile *p, unsigned n_memory_nodes, struct target_list *l)
{
        struct ksm_conf c;
        size_t n = 0;

        if (ksm_conf_from_profile(p, &c) < 0)
                return;
        for (size_t i = 0; i < l->n; i++) {
                struct target *t = &l->v[i];

                /* Said once where the plan is shown (--check-config, the
                 * log at apply, verify): on one node the knob decides
                 * nothing, and changing it could cost an unmerge. */
                if (n_memory_nodes <= 1 && streq(t->path, KSM_DIR "merge_across_nodes")) {
                        l->notes = xreallocarray(l->notes, l->n_notes + 1, sizeof(*l->notes));
                        l->notes[l->n_notes++] = (struct plan_note){
                                .key = xstrdup("ksm merge_across_nodes"),
                                .text = xasprintf("%s: [ksm] merge_across_nodes=%s not written: no effect with "
                                                  "one NUMA node", t->source ? t->source : "?", t->value),
                        };
                }

                if (startswith(t->path, KSM_DIR) && module_owns(&c, t->path + strlen(KSM_DIR))) {
                        free(t->key);
                        free(t->path);
                        free(t->value);
                        free(t->source);
                        free(t->source_file);
                        continue;
                }
                l->v[n++] = *t;
        }
        l->n = n;
}

/* --- parsers --------------------------------------------------------------- */

/* The token after the next white space, in place: these files are "key
 * value" pairs, one a line, or folded to one line by kfile_read. */
static const char *next_token(const char *s, size_t *ret_len)
{
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        *ret_len = strcspn(s, " \t\n");
        return s;
}

static bool token_is(const char *tok, size_t len, const char *word)
{
        return len == strlen(word) && strncmp(tok, word, len) == 0;
}

static int token_u64(const char *tok, size_t len, uint64_t *ret)
{
        char buf[32], *end;

        if (len == 0 || len >= sizeof(buf) || tok[0] == '-')
                return -EINVAL;
        memcpy(buf, tok, len);
        buf[len] = '\0';
        errno = 0;
        *ret = strtoull(buf, &end, 10);
        return *end || errno ? -EINVAL : 0;
}

int ksm_parse_meminfo(const char *buf, uint64_t *ret_total_kib, uint64_t *ret_available_kib)
{
        uint64_t total = 0, avail = 0;
        bool have_total = false, have_avail = false;
        const char *tok;
        size_t len;

        for (tok = next_token(buf, &len); len > 0; tok = next_token(tok + len, &len)) {
                bool is_total = token_is(tok, len, "MemTotal:"), is_avail = token_is(tok, len, "MemAvailable:");

                if (!is_total && !is_avail)
                        continue;
                tok = next_token(tok + len, &len);
                if (token_u64(tok, len, is_total ? &total : &avail) < 0)
                        return -EINVAL;
                have_total = have_total || is_total;
                have_avail = have_avail || is_avail;
        }
        if (!have_total || !have_avail || total == 0)
                return -ENODATA;
        *ret_total_kib = total;
        *ret_available_kib = avail;
        return 0;
}

int ksm_parse_psi(const char *buf, double *ret_some_avg10, double *ret_full_avg10)
{
        double some = -1, full = 0, *cur = NULL;
        const char *tok;
        size_t len;

        for (tok = next_token(buf, &len); len > 0; tok = next_token(tok + len, &len)) {
                char num[32], *end;

                if (token_is(tok, len, "some"))
                        cur = &some;
                else if (token_is(tok, len, "full"))
                        cur = &full;
                else if (cur && len > 6 && strncmp(tok, "avg10=", 6) == 0 && len - 6 < sizeof(num)) {
                        memcpy(num, tok + 6, len - 6);
                        num[len - 6] = '\0';
                        *cur = strtod(num, &end);
                        if (*end || !isfinite(*cur) || *cur < 0)  /* strtod takes "nan" and "inf" too */
                                return -EINVAL;
                        cur = NULL;
                }
        }
        if (some < 0)
                return -ENODATA;
        *ret_some_avg10 = some;
        *ret_full_avg10 = full; /* no "full" line before Linux 5.13's cgroup PSI: 0 */
        return 0;
}

int ksm_parse_proc_stat(const char *buf, struct ksm_proc_stat *ret)
{
        struct ksm_proc_stat st = {};
        const char *tok;
        bool any = false;
        size_t len;

        for (tok = next_token(buf, &len); len > 0; tok = next_token(tok + len, &len)) {
                const char *val;
                size_t vlen, klen = len;
                uint64_t v = 0;

                if (tok[klen - 1] == ':')
                        klen--;
                val = next_token(tok + len, &vlen);
                if (vlen == 0)
                        break;
                if (token_is(tok, klen, "ksm_merge_any") || token_is(tok, klen, "ksm_mergeable")) {
                        bool yes = token_is(val, vlen, "yes");

                        if (token_is(tok, klen, "ksm_merge_any"))
                                st.merge_any = yes;
                        else
                                st.mergeable = yes;
                } else if (token_is(tok, klen, "ksm_process_profit")) {
                        bool neg = val[0] == '-';

                        /* -2^63 fits, and is negated without overflow. */
                        if (token_u64(val + neg, vlen - neg, &v) < 0 || v > (uint64_t) INT64_MAX + neg)
                                return -EINVAL;
                        st.process_profit = neg && v > 0 ? -(int64_t) (v - 1) - 1 : (int64_t) v;
                } else if (token_u64(val, vlen, &v) == 0) {
                        if (token_is(tok, klen, "ksm_rmap_items"))
                                st.rmap_items = v;
                        else if (token_is(tok, klen, "ksm_zero_pages"))
                                st.zero_pages = v;
                        else if (token_is(tok, klen, "ksm_merging_pages"))
                                st.merging_pages = v;
                }
                any = true;
                tok = val;
                len = vlen;
        }
        if (!any)
                return -ENODATA;
        *ret = st;
        return 0;
}

/* --- the decision ---------------------------------------------------------- */

static _printf_(2, 3) void reason_add(struct ksm_decision *d, const char *fmt, ...)
{
        size_t n = strlen(d->reason);
        va_list ap;

        if (n >= sizeof(d->reason) - 1)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(d->reason + n, sizeof(d->reason) - n, fmt, ap);
        va_end(ap);
}

/* "3.1 GiB", "512 MiB", "80 KiB": for reasons a human reads. */
#define FMT_MAX 32
static const char *fmt_kib(char buf[static FMT_MAX], uint64_t kib)
{
        if (kib >= UINT64_C(1) << 20)
                snprintf(buf, FMT_MAX, "%.1f GiB", (double) kib / (1 << 20));
        else if (kib >= 1024)
                snprintf(buf, FMT_MAX, "%" PRIu64 " MiB", kib / 1024);
        else
                snprintf(buf, FMT_MAX, "%" PRIu64 " KiB", kib);
        return buf;
}

/* The same for a signed byte count (general_profit can be negative). */
static const char *fmt_bytes(char buf[static FMT_MAX + 1], int64_t bytes)
{
        buf[0] = '-';
        fmt_kib(buf + (bytes < 0), (bytes < 0 ? -(uint64_t) bytes : (uint64_t) bytes) / 1024);
        return buf;
}

static uint64_t percent_of(uint64_t kib, unsigned percent)
{
        return kib / 100 * percent + kib % 100 * percent / 100;
}

uint64_t ksm_unmerge_kib(const struct ksm_state *s)
{
        /* Unmerging gives every sharing page (and zero page) its own copy again. */
        return (s->pages_sharing + s->ksm_zero_pages) * (s->page_size_kib ? s->page_size_kib : 4);
}

bool ksm_unmerge_fits(const struct ksm_conf *c, const struct ksm_memory *m, const struct ksm_state *s)
{
        return m->total_kib > 0 &&
               ksm_unmerge_kib(s) + percent_of(m->total_kib, c->threshold_percent) <= m->available_kib;
}

/* Tight: any sign that memory runs short. Each one found goes into the reason. */
static bool memory_tight(const struct ksm_conf *c, const struct ksm_memory *m, struct ksm_decision *d)
{
        uint64_t thres = percent_of(m->total_kib, c->threshold_percent);
        char a[FMT_MAX], b[FMT_MAX], t[FMT_MAX];
        bool tight = false;

        if (m->available_kib < thres) {
                reason_add(d, "memory tight: MemAvailable %s < %u%% of MemTotal %s (%s)",
                           fmt_kib(a, m->available_kib), c->threshold_percent, fmt_kib(t, m->total_kib),
                           fmt_kib(b, thres));
                tight = true;
        }
        if (m->has_psi && m->psi_some_avg10 >= KSM_PSI_TIGHT) {
                reason_add(d, "%smemory pressure: PSI some avg10 %.2f%% >= %.0f%% (full %.2f%%)",
                           tight ? "; " : "memory tight: ", m->psi_some_avg10, KSM_PSI_TIGHT, m->psi_full_avg10);
                tight = true;
        }
        if (m->committed_kib != KSM_COMMITTED_UNKNOWN && m->committed_kib + thres > m->total_kib) {
                reason_add(d, "%sdomains' memory %s + %u%% (%s) > MemTotal %s",
                           tight ? "; " : "memory tight: ", fmt_kib(a, m->committed_kib), c->threshold_percent,
                           fmt_kib(b, thres), fmt_kib(t, m->total_kib));
                tight = true;
        }
        return tight;
}

/* Plentiful: clear of every start condition by the hysteresis margin. */
static bool memory_plentiful(const struct ksm_conf *c, const struct ksm_memory *m, struct ksm_decision *d)
{
        unsigned pct = c->threshold_percent + KSM_HYSTERESIS_PERCENT > 100 ? 100
                       : c->threshold_percent + KSM_HYSTERESIS_PERCENT;
        uint64_t thres_off = percent_of(m->total_kib, pct);
        char a[FMT_MAX], b[FMT_MAX], t[FMT_MAX], cm[FMT_MAX];

        if (m->committed_kib == KSM_COMMITTED_UNKNOWN) {
                reason_add(d, "MemAvailable %s, but the domains' memory was not known at this decision "
                           "(libvirt not connected)",
                           fmt_kib(a, m->available_kib));
                return false;
        }
        if (m->available_kib < thres_off || m->committed_kib + thres_off > m->total_kib ||
            (m->has_psi && m->psi_some_avg10 >= KSM_PSI_EASED)) {
                reason_add(d, "between thresholds: MemAvailable %s (merging starts below %s, stops at %s), "
                           "domains' memory %s, PSI some avg10 %.2f%%",
                           fmt_kib(a, m->available_kib), fmt_kib(b, percent_of(m->total_kib, c->threshold_percent)),
                           fmt_kib(t, thres_off), fmt_kib(cm, m->committed_kib), m->has_psi ? m->psi_some_avg10 : 0.0);
                return false;
        }
        reason_add(d, "memory plentiful: MemAvailable %s >= %u%% of MemTotal %s (%s), domains' memory %s",
                   fmt_kib(a, m->available_kib), pct, fmt_kib(t, m->total_kib), fmt_kib(b, thres_off),
                   fmt_kib(cm, m->committed_kib));
        if (m->has_psi)
                reason_add(d, ", PSI some avg10 %.2f%%", m->psi_some_avg10);
        return true;
}

static long clamp_pages(long v)
{
        return v < KSM_NPAGES_MIN ? KSM_NPAGES_MIN : v > KSM_NPAGES_MAX ? KSM_NPAGES_MAX : v;
}

/* While merging: the kernel's advisor where it has one, else ksmtuned's
 * boost when tight and decay when not. */
static void decide_scan_rate(const struct ksm_conf *c, const struct ksm_state *s, struct ksm_decision *d)
{
        long base;

        if (s->has_advisor && c->use_advisor) {
                if (!s->advisor_on)
                        d->advisor_mode = "scan-time";
                reason_add(d, "; scan rate: the kernel's advisor (scan-time)");
                return;
        }
        /* Switching the advisor off resets pages_to_scan to the default. */
        if (s->advisor_on)
                d->advisor_mode = "none";
        base = s->advisor_on ? KSM_DEFAULT_PAGES_TO_SCAN : s->pages_to_scan;
        d->pages_to_scan = clamp_pages(base + (d->tight ? KSM_NPAGES_BOOST : -KSM_NPAGES_DECAY));
        reason_add(d, "; pages_to_scan %ld -> %ld (%s)", base, d->pages_to_scan, d->tight ? "boost" : "decay");
}

static void decide_auto(const struct ksm_conf *c, const struct ksm_memory *m, const struct ksm_state *s,
                        struct ksm_decision *d)
{
        if (m->total_kib == 0) {
                reason_add(d, "no memory figures (MemTotal, MemAvailable); leaving KSM as it is");
                return;
        }
        d->tight = memory_tight(c, m, d);
        if (d->tight)
                d->run = 1;
        else if (memory_plentiful(c, m, d))
                d->run = 0;
        else if (s->run == 1) {
                d->run = 1;
                reason_add(d, "; keeping run=1");
        } else
                reason_add(d, "; keeping run=%d", s->run);
        if (d->run == 1)
                decide_scan_rate(c, s, d);
}

/* merge_across_nodes: the profile's value, or 0 on a NUMA host where
 * vmtuned runs KSM (seeds 000, 003: merging across nodes makes guests read
 * remote memory). Never on a host with one memory node, where it decides
 * nothing. The kernel refuses a change while pages are merged, and
 * unmerging gives every merged page its own copy again (GiBs, and hours
 * of scanning to merge them back): so the change waits until nothing is
 * merged, unless the administrator asked for the unmerge
 * (unmerge_for_numa) and the copies fit with the reserve. */
static void decide_numa(const struct ksm_conf *c, const struct ksm_memory *m, const struct ksm_state *s,
                        struct ksm_decision *d)
{
        bool runs_ksm = c->mode == KSM_MODE_AUTO || (c->mode == KSM_MODE_ON && c->profile_run == 1);
        int want = c->profile_merge_across_nodes;
        uint64_t need_kib;
        char a[FMT_MAX], b[FMT_MAX];

        if (want < 0 && s->n_nodes > 1 && runs_ksm)
                want = 0;
        if (want < 0 || s->merge_across_nodes < 0 || s->merge_across_nodes == want)
                return;
        if (s->n_nodes <= 1) {
                snprintf(d->numa, sizeof(d->numa), "merge_across_nodes=%d not written: no effect with one NUMA node",
                         want);
                reason_add(d, "; %s", d->numa);
                return;
        }
        if (s->pages_shared == 0 && s->pages_sharing == 0) {
                d->merge_across_nodes = want;
                reason_add(d, "; merge_across_nodes %d -> %d (%u NUMA nodes)", s->merge_across_nodes, want, s->n_nodes);
                return;
        }
        need_kib = ksm_unmerge_kib(s);
        if (!c->unmerge_for_numa) {
                d->numa_pending = true;
                snprintf(d->numa, sizeof(d->numa), "merge_across_nodes %d -> %d pending (%u NUMA nodes): %" PRIu64
                         " pages merged; changing merge_across_nodes needs an unmerge of %s, so it waits until "
                         "nothing is merged ([ksm] unmerge_for_numa = yes unmerges now)", s->merge_across_nodes,
                         want, s->n_nodes, s->pages_sharing, fmt_kib(a, need_kib));
                reason_add(d, "; %s", d->numa);
                return;
        }
        if (!ksm_unmerge_fits(c, m, s)) {
                d->numa_pending = true;
                snprintf(d->numa, sizeof(d->numa), "merge_across_nodes %d -> %d pending: %" PRIu64 " pages merged; "
                         "changing merge_across_nodes needs an unmerge of %s, which would leave less than %u%% of "
                         "memory available (MemAvailable %s)", s->merge_across_nodes, want, s->pages_sharing,
                         fmt_kib(a, need_kib), c->threshold_percent, fmt_kib(b, m->available_kib));
                reason_add(d, "; %s", d->numa);
                return;
        }
        d->merge_across_nodes = want;
        d->unmerge_first = true;
        reason_add(d, "; merge_across_nodes %d -> %d (%u NUMA nodes): %" PRIu64 " pages merged, "
                   "unmerge_for_numa = yes: unmerging first (run=2, %s) and restoring run after",
                   s->merge_across_nodes, want, s->n_nodes, s->pages_sharing, fmt_kib(a, need_kib));
}

void ksm_decide(const struct ksm_conf *c, const struct ksm_memory *m, const struct ksm_state *s,
                bool unmerge, struct ksm_decision *ret)
{
        struct ksm_decision d = { .run = -1, .pages_to_scan = -1, .merge_across_nodes = -1 };

        if (!s->present) {
                reason_add(&d, "KSM is not in this kernel (no sys/kernel/mm/ksm)");
                *ret = d;
                return;
        }
        if (unmerge) {
                d.run = 2;
                reason_add(&d, "unmerge requested: run=2 until released");
                *ret = d;
                return;
        }
        switch (c->mode) {
        case KSM_MODE_OFF:
                d.run = 0;
                reason_add(&d, "mode=off");
                break;
        case KSM_MODE_ON:
                /* The default mode: without a [ksm] section there is no
                 * value to apply, and "mode=on" would read as "KSM on". */
                reason_add(&d, c->in_profile ? "mode=on: the profile's values" : "left as the kernel has it");
                break;
        case KSM_MODE_AUTO:
                decide_auto(c, m, s, &d);
                break;
        }
        decide_numa(c, m, s, &d);
        *ret = d;
}

/* --- the writes ------------------------------------------------------------ */

static void add(struct target_list *l, const char *knob, const char *value, const char *source)
{
        l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
        l->v[l->n++] = (struct target){
                .key = xasprintf("ksm %s", knob),
                .path = xasprintf(KSM_DIR "%s", knob),
                .value = xstrdup(value),
                .source = xstrdup(source),
                .selector = streq(knob, "advisor_mode"),
        };
}

void ksm_targets(const struct ksm_decision *d, const struct ksm_state *s, struct target_list *l)
{
        char num[32];
        int final_run = d->run >= 0 ? d->run : d->unmerge_first ? s->run : -1;

        if (d->unmerge_first)
                add(l, "run", "2", "vmtuned ksm: merge_across_nodes needs no merged pages");
        if (d->advisor_mode && streq(d->advisor_mode, "scan-time") && !s->advisor_on &&
            s->pages_to_scan != KSM_DEFAULT_PAGES_TO_SCAN)
                /* The advisor takes pages_to_scan over, and switching it
                 * off again (at restore) resets pages_to_scan to 100. With
                 * pages_to_scan journaled first, at 100, the restore (in
                 * reverse order) finds 100 after the advisor and puts the
                 * original back. */
                add(l, "pages_to_scan", "100", "vmtuned ksm: before the advisor");
        if (d->advisor_mode)
                add(l, "advisor_mode", d->advisor_mode, "vmtuned ksm auto");
        if (d->pages_to_scan >= 0) {
                snprintf(num, sizeof(num), "%ld", d->pages_to_scan);
                add(l, "pages_to_scan", num, "vmtuned ksm auto");
        }
        if (d->merge_across_nodes >= 0) {
                snprintf(num, sizeof(num), "%d", d->merge_across_nodes);
                add(l, "merge_across_nodes", num, "vmtuned ksm: NUMA");
        }
        if (final_run >= 0 && !(d->unmerge_first && final_run == 2)) {
                snprintf(num, sizeof(num), "%d", final_run);
                add(l, "run", num, d->run == 2 ? "vmtuned ksm: unmerge requested" : "vmtuned ksm");
        }
}

/* --- the report ------------------------------------------------------------ */

static const char *run_name(int run)
{
        return run == 0 ? "stopped" : run == 1 ? "merging" : run == 2 ? "stopped, unmerged" : "?";
}

static void print_json(FILE *out, const struct ksm_report *r, const struct ksm_domain_stat *doms, size_t n)
{
        const struct ksm_state *s = &r->state;

        fprintf(out, "{\"present\":%s,\"configured\":%s,\"in_profile\":%s,\"mode\":",
                s->present ? "true" : "false", r->configured ? "true" : "false", r->in_profile ? "true" : "false");
        json_print_string(out, ksm_mode_to_string(r->mode));
        fprintf(out, ",\"run\":%d,\"tight\":%s,\"unmerge\":%s,\"reason\":", s->run, r->tight ? "true" : "false",
                r->unmerge ? "true" : "false");
        json_print_string(out, r->reason);
        fputs(",\"numa\":", out);
        json_print_string(out, r->numa);
        fprintf(out, ",\"general_profit\":%" PRId64 ",\"pages_sharing\":%" PRIu64 ",\"pages_shared\":%" PRIu64
                ",\"pages_unshared\":%" PRIu64 ",\"ksm_zero_pages\":%" PRIu64 ",\"full_scans\":%" PRIu64
                ",\"pages_to_scan\":%ld,\"advisor\":%s,\"merge_across_nodes\":%d,\"domains\":[",
                s->general_profit, s->pages_sharing, s->pages_shared, s->pages_unshared, s->ksm_zero_pages,
                s->full_scans, s->pages_to_scan, s->advisor_on ? "true" : "false", s->merge_across_nodes);
        for (size_t i = 0; i < n; i++) {
                fputs(i ? ",{\"name\":" : "{\"name\":", out);
                json_print_string(out, doms[i].name);
                fprintf(out, ",\"merging_pages\":%" PRIu64 ",\"zero_pages\":%" PRIu64 ",\"profit\":%" PRId64 "}",
                        doms[i].stat.merging_pages, doms[i].stat.zero_pages, doms[i].stat.process_profit);
        }
        fputs("]}", out);
}

void ksm_report_print(FILE *out, const struct ksm_report *r, const struct ksm_domain_stat *doms,
                      size_t n_doms, bool json)
{
        const struct ksm_state *s = &r->state;
        char a[FMT_MAX + 1];

        if (json) {
                print_json(out, r, doms, n_doms);
                return;
        }
        if (!s->present) {
                fputs("KSM: not in this kernel\n", out);
                return;
        }
        if (r->in_profile)
                fprintf(out, "KSM: mode %s%s, ", ksm_mode_to_string(r->mode), r->configured ? "" : " (paused)");
        else
                fputs("KSM: no [ksm] in the profile, ", out);
        fprintf(out, "%s (run=%d)%s\n", run_name(s->run), s->run, r->unmerge ? ", unmerge held" : "");
        if (r->reason[0])
                fprintf(out, "  why: %s\n", r->reason);
        fprintf(out, "  saved: %s (general_profit); pages_sharing %" PRIu64 ", pages_shared %" PRIu64
                ", ksm_zero_pages %" PRIu64 ", full_scans %" PRIu64 "\n", fmt_bytes(a, s->general_profit),
                s->pages_sharing, s->pages_shared, s->ksm_zero_pages, s->full_scans);
        fprintf(out, "  scan rate: %s", s->advisor_on ? "the kernel's advisor (scan-time)" : "pages_to_scan ");
        if (!s->advisor_on)
                fprintf(out, "%ld", s->pages_to_scan);
        fprintf(out, "; merge_across_nodes %d\n", s->merge_across_nodes);
        if (r->numa[0])
                fprintf(out, "  %s\n", r->numa);
        if (n_doms > 0)
                fprintf(out, "  %-24s %14s %12s %12s\n", "DOMAIN", "MERGING_PAGES", "ZERO_PAGES", "PROFIT");
        for (size_t i = 0; i < n_doms; i++)
                fprintf(out, "  %-24s %14" PRIu64 " %12" PRIu64 " %12s\n", doms[i].name,
                        doms[i].stat.merging_pages, doms[i].stat.zero_pages, fmt_bytes(a, doms[i].stat.process_profit));
}
