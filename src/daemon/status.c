/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The answers of `vmtunectl status`, `profile list` and `profile show`
 * (see include/daemon/status.h). */
#include "daemon/status.h"

#include <inttypes.h>
#include <time.h>

#include "balance/balancer.h"
#include "config/conf.h"
#include "config/ini.h"
#include "daemon/daemon.h"
#include "daemon/state.h"
#include "base/json.h"
#include "tuning/ksm.h"
#include "tuning/rollback.h"
#include "config/profile.h"
#include "tuning/verify.h"
#include "virt/virt.h"

void status_format_duration(char *buf, size_t size, unsigned long long sec)
{
        unsigned long long d = sec / 86400, h = sec / 3600 % 24, m = sec / 60 % 60, s = sec % 60;

        if (d > 0)
                snprintf(buf, size, "%llud %lluh", d, h);
        else if (h > 0)
                snprintf(buf, size, "%lluh %llumin", h, m);
        else if (m > 0)
                snprintf(buf, size, "%llumin %llus", m, s);
        else
                snprintf(buf, size, "%llus", s);
}

static void format_time(char *buf, size_t size, uint64_t realtime_usec)
{
        time_t t = (time_t) (realtime_usec / 1000000);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, size, "@%" PRIu64, realtime_usec / 1000000);
}

static uint64_t now_realtime_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static size_t n_domains(const struct daemon *d)
{
        size_t n = 0;

        if (d->virt)
                (void) virt_domains(d->virt, &n);
        return n;
}

static const char *libvirt_uri(const struct daemon *d)
{
        return d->tuning.conf->libvirt_uri ? d->tuning.conf->libvirt_uri : VIRT_DEFAULT_URI;
}

/* The balancer's lines: its counters and the mover's pace, then how it
 * samples; or why it does not run. */
static void print_balancer_text(FILE *out, const struct daemon *d)
{
        const struct balancer_conf *b = &d->tuning.conf->balancer;

        if (!b->enabled) {
                fputs("balancer: disabled ([balancer] enabled=no)\n", out);
                return;
        }
        fprintf(out, "balancer: every %ld s; ", b->interval_sec);
        if (d->balancer)
                balancer_print_status(d->balancer, out, false);
        else
                fputs(d->virt ? "not running (it could not start; see the journal)" : "not running (no libvirt)", out);
        fputc('\n', out);
        if (d->balancer) {
                fputs("sampling: ", out);
                balancer_print_sampling(d->balancer, out, false);
                fputc('\n', out);
        }
}

static void print_balancer_json(FILE *out, const struct daemon *d)
{
        const struct balancer_conf *b = &d->tuning.conf->balancer;

        fprintf(out, "\"balancer\":{\"enabled\":%s,\"interval_sec\":%ld,\"counters\":", b->enabled ? "true" : "false",
                b->interval_sec);
        if (d->balancer)
                balancer_print_status(d->balancer, out, true);
        else
                fputs("null", out);
        fputs(",\"sampling\":", out);
        if (d->balancer)
                balancer_print_sampling(d->balancer, out, true);
        else
                fputs("null", out);
        fputc('}', out);
}

static void print_state_text(FILE *out, const struct daemon *d)
{
        char since[64], ago[32];

        if (!d->applied) {
                /* Not "every value": off leaves a value someone else changed. */
                fputs("state:    off: rolled back (vmtunectl profile NAME or reload applies again)\n", out);
                return;
        }
        format_time(since, sizeof(since), d->applied_since_usec);
        status_format_duration(ago, sizeof(ago),
                               (now_realtime_usec() - d->applied_since_usec) / 1000000);
        fprintf(out, "state:    applied since %s (%s ago)%s\n", since, ago,
                d->args->dry_run ? ", dry run: nothing written" : "");
}

/* What KSM is worth, host-wide and per domain (/proc/PID/ksm_stat). */
static void print_ksm(FILE *out, const struct daemon *d, bool json)
{
        const struct domain *doms = NULL;
        struct ksm_domain_stat *stats;
        struct ksm_report r;
        size_t n = 0, n_stats = 0;

        if (!d->ksm || ksm_report(d->ksm, &r) < 0) {
                fputs(json ? "null" : "KSM: not followed (see the journal)\n", out);
                return;
        }
        if (d->virt)
                doms = virt_domains(d->virt, &n);
        stats = xcalloc(n, sizeof(*stats));
        for (size_t i = 0; i < n; i++)
                if (doms[i].pid > 0 && ksm_read_proc_stat(&d->root, doms[i].pid, &stats[n_stats].stat) >= 0)
                        stats[n_stats++].name = doms[i].name;
        ksm_report_print(out, &r, stats, n_stats, json);
        free(stats);
}

/* One line (text) or object (JSON) for each journal entry that waits to be
 * restored, with why as the kernel shows it now (rollback.h). */
static void print_waiting(FILE *out, const struct daemon *d, bool json)
{
        size_t n = 0;

        if (json)
                fputs(",\"waiting\":[", out);
        for (size_t i = 0; i < d->rollback->n_entries; i++) {
                const struct rollback_entry *e = &d->rollback->entries[i];
                const char *file = strrchr(e->path, '/');
                _cleanup_free_ char *why = NULL;
                bool blocked;

                if (!e->waiting)
                        continue;
                why = rollback_waiting_reason(e, &d->root, &blocked);
                if (!json) {
                        fprintf(out, "restore:  %s %s: %s\n", e->key, file ? file + 1 : e->path, why);
                        continue;
                }
                fputs(n++ ? ",{\"key\":" : "{\"key\":", out);
                json_print_string(out, e->key);
                fputs(",\"path\":", out);
                json_print_string(out, e->path);
                fputs(",\"original\":", out);
                json_print_string(out, e->original);
                fputs(",\"reason\":", out);
                json_print_string(out, why);
                fputc('}', out);
        }
        if (json)
                fputc(']', out);
}

static char *describe_source(const struct daemon *d)
{
        return profile_source_describe(d->tuning.source, d->tuning.conf->file, d->args->state_dir,
                                       d->args->dry_run);
}

static void print_text(FILE *out, const struct daemon *d, const struct verify_report *v)
{
        const struct profile *p = d->tuning.profile;
        _cleanup_free_ char *source = describe_source(d);

        fprintf(out, "vmtuned %s, pid %d\n", VMTUNED_VERSION, (int) getpid());
        fprintf(out, "profile:  %s%s%s\n", p->name, p->summary ? ": " : "", p->summary ? p->summary : "");
        fprintf(out, "          %s\n", p->file);
        fprintf(out, "source:   %s\n", source);
        print_state_text(out, d);
        fprintf(out, "settings: %u changed, %u already set, %u skipped at the last apply", d->stats.applied,
                d->stats.unchanged, d->stats.skipped);
        if (v)
                fprintf(out, "; now %u ok, %u drifted, %u adjusted, %u skipped", v->count[VERIFY_OK],
                        v->count[VERIFY_DRIFT], v->count[VERIFY_ADJUSTED], v->count[VERIFY_SKIPPED]);
        fputc('\n', out);
        print_waiting(out, d, false);
        fprintf(out, "config:   %s\n", d->tuning.conf->file ? d->tuning.conf->file : "built-in defaults");
        fprintf(out, "libvirt:  %s, %s\n", libvirt_uri(d),
                !d->virt ? "not followed (see the journal)"
                : virt_is_connected(d->virt) ? "connected" : "not connected (retrying in the background)");
        fprintf(out, "domains:  %zu running\n", n_domains(d));
        print_balancer_text(out, d);
        print_ksm(out, d, false);
}

static void print_json(FILE *out, const struct daemon *d, const struct verify_report *v)
{
        const struct profile *p = d->tuning.profile;
        _cleanup_free_ char *source = describe_source(d);
        _cleanup_free_ char *state_file = state_profile_path(d->args->state_dir);
        char since[64];

        json_print_open(out);
        fputs(",\"daemon_version\":", out);
        json_print_string(out, VMTUNED_VERSION);
        fprintf(out, ",\"pid\":%d,\"profile\":", (int) getpid());
        json_print_string(out, p->name);
        fputs(",\"profile_file\":", out);
        json_print_string(out, p->file);
        fputs(",\"summary\":", out);
        json_print_string(out, p->summary);
        /* {"kind": "vmtunectl", "file": the state file, "persisted": true,
         * "text": what the text says}; file null but for vmtunectl and
         * configuration-file. */
        fputs(",\"profile_source\":{\"kind\":", out);
        json_print_string(out, profile_source_to_string(d->tuning.source));
        fputs(",\"file\":", out);
        json_print_string(out, d->tuning.source == PROFILE_SOURCE_CONFIG ? d->tuning.conf->file
                               : d->tuning.source == PROFILE_SOURCE_PERSISTED ? state_file : NULL);
        fprintf(out, ",\"persisted\":%s,\"text\":", d->tuning.source == PROFILE_SOURCE_PERSISTED ? "true" : "false");
        json_print_string(out, source);
        fputc('}', out);
        fprintf(out, ",\"applied\":%s,\"dry_run\":%s", d->applied ? "true" : "false",
                d->args->dry_run ? "true" : "false");
        if (d->applied) {
                format_time(since, sizeof(since), d->applied_since_usec);
                fprintf(out, ",\"applied_since_usec\":%" PRIu64 ",\"applied_since\":", d->applied_since_usec);
                json_print_string(out, since);
        }
        fprintf(out, ",\"last_apply\":{\"changed\":%u,\"already_set\":%u,\"skipped\":%u}", d->stats.applied,
                d->stats.unchanged, d->stats.skipped);
        if (v)
                fprintf(out, ",\"now\":{\"ok\":%u,\"drifted\":%u,\"adjusted\":%u,\"skipped\":%u}",
                        v->count[VERIFY_OK], v->count[VERIFY_DRIFT], v->count[VERIFY_ADJUSTED],
                        v->count[VERIFY_SKIPPED]);
        print_waiting(out, d, true);
        fputs(",\"config\":", out);
        json_print_string(out, d->tuning.conf->file);
        fputs(",\"libvirt\":{\"uri\":", out);
        json_print_string(out, libvirt_uri(d));
        fprintf(out, ",\"connected\":%s},\"domains\":%zu,", d->virt && virt_is_connected(d->virt) ? "true" : "false",
                n_domains(d));
        print_balancer_json(out, d);
        fputs(",\"ksm\":", out);
        print_ksm(out, d, true);
        fputs("}\n", out);
}

void status_print(FILE *out, const struct daemon *d, const struct verify_report *v, bool json)
{
        if (json)
                print_json(out, d, v);
        else
                print_text(out, d, v);
}

/* --- profiles ------------------------------------------------------------ */

struct profile_entry {
        char *name;
        struct profile *p;        /* NULL if it does not load */
        struct conf_error err;
};

static void print_profiles_text(FILE *out, const struct profile_entry *e, size_t n, const char *active,
                                bool applied)
{
        size_t width = strlen("NAME");

        for (size_t i = 0; i < n; i++)
                if (strlen(e[i].name) > width)
                        width = strlen(e[i].name);
        fprintf(out, "  %-*s  SUMMARY\n", (int) width, "NAME");
        for (size_t i = 0; i < n; i++) {
                bool is_active = active && streq(e[i].name, active);

                fprintf(out, "%c %-*s  %s%s\n", is_active ? '*' : ' ', (int) width, e[i].name,
                        e[i].p ? (e[i].p->summary ? e[i].p->summary : "") : "error: ",
                        e[i].p ? (is_active && !applied ? " (off)" : "") : e[i].err.message);
        }
        if (n == 0)
                fputs("(no profiles found)\n", out);
}

static void print_profiles_json(FILE *out, const struct profile_entry *e, size_t n, const char *active,
                                bool applied)
{
        json_print_open(out);
        fputs(",\"active\":", out);
        json_print_string(out, active);
        fprintf(out, ",\"applied\":%s,\"profiles\":[", applied ? "true" : "false");
        for (size_t i = 0; i < n; i++) {
                fputs(i ? ",\n {\"name\":" : "\n {\"name\":", out);
                json_print_string(out, e[i].name);
                fputs(",\"summary\":", out);
                json_print_string(out, e[i].p ? e[i].p->summary : NULL);
                fputs(",\"file\":", out);
                json_print_string(out, e[i].p ? e[i].p->file : NULL);
                fprintf(out, ",\"active\":%s,\"error\":", active && streq(e[i].name, active) ? "true" : "false");
                json_print_string(out, e[i].p ? NULL : e[i].err.message);
                fputc('}', out);
        }
        fputs("]}\n", out);
}

void status_print_profiles(FILE *out, const char *const *dirs, size_t n_dirs, const char *active,
                           bool applied, bool json)
{
        char **names = profile_list(dirs, n_dirs);
        struct profile_entry *e;
        size_t n = 0;

        while (names[n])
                n++;
        e = xcalloc(n, sizeof(*e));
        for (size_t i = 0; i < n; i++) {
                e[i].name = names[i];
                if (profile_load(dirs, n_dirs, names[i], &e[i].p, &e[i].err) < 0)
                        e[i].p = NULL;
        }
        if (json)
                print_profiles_json(out, e, n, active, applied);
        else
                print_profiles_text(out, e, n, active, applied);
        for (size_t i = 0; i < n; i++)
                profile_free(e[i].p);
        free(e);
        option_list_free(names);
}

static void print_profile_text(FILE *out, const struct profile *p)
{
        size_t wk = strlen("KEY"), wv = strlen("VALUE");

        fprintf(out, "profile %s (%s)%s%s\n", p->name, p->file, p->summary ? ": " : "",
                p->summary ? p->summary : "");
        for (size_t i = 0; i < p->n_settings; i++) {
                size_t k = strlen(p->settings[i].section) + 3 + strlen(p->settings[i].key);

                wk = k > wk ? k : wk;
                wv = strlen(p->settings[i].value) > wv ? strlen(p->settings[i].value) : wv;
        }
        fprintf(out, "%-*s  %-*s  SOURCE\n", (int) wk, "KEY", (int) wv, "VALUE");
        for (size_t i = 0; i < p->n_settings; i++) {
                const struct setting *s = &p->settings[i];
                _cleanup_free_ char *key = xasprintf("[%s] %s", s->section, s->key);
                _cleanup_free_ char *source = setting_source(s);

                fprintf(out, "%-*s  %-*s  %s\n", (int) wk, key, (int) wv, s->value, source ? source : "-");
        }
}

static void print_profile_json(FILE *out, const struct profile *p)
{
        json_print_open(out);
        fputs(",\"name\":", out);
        json_print_string(out, p->name);
        fputs(",\"file\":", out);
        json_print_string(out, p->file);
        fputs(",\"summary\":", out);
        json_print_string(out, p->summary);
        fputs(",\"settings\":[", out);
        for (size_t i = 0; i < p->n_settings; i++) {
                const struct setting *s = &p->settings[i];

                fputs(i ? ",\n {\"section\":" : "\n {\"section\":", out);
                json_print_string(out, s->section);
                fputs(",\"key\":", out);
                json_print_string(out, s->key);
                fputs(",\"value\":", out);
                json_print_string(out, s->value);
                fputs(",\"source\":", out);
                json_print_source(out, s->file, s->line);
                fputc('}', out);
        }
        fputs("]}\n", out);
}

void status_print_profile(FILE *out, const struct profile *p, bool json)
{
        if (json)
                print_profile_json(out, p);
        else
                print_profile_text(out, p);
}
