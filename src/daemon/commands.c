/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What vmtunectl can ask: one handler per command, each checking its
 * arguments, calling the daemon, and writing its answer (text, or JSON with
 * --json) into the stream the control socket sends back. The exit codes
 * are vmtunectl's (ctlproto.h): 0 ok, 1 failure or drift, 2 usage.
 *
 * The handlers run on the daemon's loop, so a switch or a verify happens
 * between two ticks, never during one. */
#include <stdarg.h>
#include <stdio.h>

#include "daemon/commands.h"
#include "daemon/commands-advise.h"

#include "daemon/ctlproto.h"
#include "balance/balancer.h"
#include "daemon/control.h"
#include "daemon/metrics.h"
#include "daemon/daemon.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"
#include "config/ini.h"
#include "virt/domain.h"
#include "config/profile.h"
#include "tuning/ksm.h"
#include "tuning/plan.h"
#include "tuning/rollback.h"
#include "daemon/state.h"
#include "daemon/status.h"
#include "tuning/verify.h"
#include "virt/virt.h"

static int usage(FILE *out, bool json, const char *text)
{
        _cleanup_free_ char *msg = xasprintf("usage: vmtunectl %s", text);

        if (json)
                json_print_error(out, msg);
        else
                fprintf(out, "%s\n", msg);
        return CTL_EXIT_USAGE;
}

/* A failure for the client: a line of text, or {"error": "..."}. */
static _printf_(3, 4) int reply_error(FILE *out, bool json, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        if (json)
                json_print_error(out, msg);
        else
                fprintf(out, "%s\n", msg);
        return CTL_EXIT_FAILURE;
}

/* The outcome of an apply (switch, reload) for the client. */
static void reply_applied(FILE *out, bool json, const struct daemon *d, const char *what)
{
        const struct profile *p = d->tuning.profile;

        if (json) {
                json_print_open(out);
                fputs(",\"profile\":", out);
                json_print_string(out, p->name);
                fprintf(out, ",\"applied\":%s,\"changed\":%u,\"already_set\":%u,\"skipped\":%u}\n",
                        d->applied ? "true" : "false", d->stats.applied, d->stats.unchanged, d->stats.skipped);
                return;
        }
        fprintf(out, "%sprofile %s applied: %u changed, %u already set, %u skipped%s\n", what, p->name,
                d->stats.applied, d->stats.unchanged, d->stats.skipped,
                d->args->dry_run ? " (dry run: nothing written)" : "");
        if (d->stats.skipped > 0)
                fputs("(journalctl -u vmtuned says why each was skipped)\n", out);
}

/* Verify the running profile now, against the plan apply used
 * (settings_plan). false (and nothing in ret) when its settings are not
 * applied ("off"): there is nothing to compare. */
static bool verify_now(struct daemon *d, struct verify_report *ret)
{
        struct target_list targets = {};

        if (!d->applied)
                return false;
        if (settings_plan(&d->root, d->tuning.profile, &targets) < 0)
                return false;
        verify_run(&d->root, d->rollback, &targets, ret);
        target_list_free(&targets);
        return true;
}

static int cmd_status(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        struct verify_report v = {};
        bool have;

        if (argc != 1)
                return usage(out, json, "status");
        have = verify_now(d, &v);
        status_print(out, d, have ? &v : NULL, json);
        verify_report_free(&v);
        return CTL_EXIT_OK;
}

static int profile_switch(struct daemon *d, const char *name, bool json, FILE *out)
{
        _cleanup_free_ char *old = xstrdup(d->tuning.profile->name);
        struct conf_error err = {};
        struct tuning t;
        int r;

        /* Loaded and validated whole before anything is undone. */
        r = tuning_load(d->args, name, &t, &err);
        if (r < 0)
                return reply_error(out, json, "profile %s not switched to, nothing changed: %s", name,
                                   err.message);
        r = daemon_switch(d, &t);
        if (r < 0) {
                tuning_clear(&t);
                return reply_error(out, json, "applying profile %s failed (%s); %s", name, strerror(-r),
                                   d->applied ? "the previous profile is applied again"
                                              : "every value is rolled back (see the journal)");
        }
        /* The choice lasts (state.h) once it is applied; a dry run writes
         * nothing, so it lasts until the next reload or restart. */
        if (!d->args->dry_run) {
                r = state_profile_write(d->args->state_dir, name, d->tuning.base);
                if (r < 0) {
                        _cleanup_free_ char *file = state_profile_path(d->args->state_dir);

                        (void) log_event_errno(LOG_WARNING, r, MSGID_STATE_SAVE_FAILED, NULL,
                                               "profile %s applied, but cannot save the choice in %s: %m; "
                                               "it lasts until the next reload or restart", name, file);
                        return reply_error(out, json, "profile %s applied, but the choice could not be saved in "
                                           "%s (%s): it lasts until the next reload or restart", name, file,
                                           strerror(-r));
                }
                d->tuning.source = PROFILE_SOURCE_PERSISTED;
        }
        reply_applied(out, json, d, streq(old, name) ? "re-applied: " : "");
        return CTL_EXIT_OK;
}

/* Forget the vmtunectl choice and run the profile the command line or the
 * configuration names, as a start without the state file would. */
static int profile_reset(struct daemon *d, bool json, FILE *out)
{
        _cleanup_free_ char *file = state_profile_path(d->args->state_dir);
        struct conf_error err = {};
        struct tuning t;
        int r;

        /* Loaded first: a configuration that does not load keeps both the
         * running profile and the choice. */
        r = tuning_load_base(d->args, &t, &err);
        if (r < 0)
                return reply_error(out, json, "not reset, nothing changed: %s", err.message);
        if (!d->args->dry_run) {
                r = state_profile_remove(d->args->state_dir);
                if (r < 0) {
                        tuning_clear(&t);
                        return reply_error(out, json, "cannot remove %s (%s); nothing changed", file, strerror(-r));
                }
                log_info("control: the profile chosen with vmtunectl is forgotten (%s %s)", file,
                         r > 0 ? "removed" : "was not there");
        }
        r = daemon_switch(d, &t);
        if (r < 0) {
                tuning_clear(&t);
                return reply_error(out, json, "the choice is forgotten, but applying profile %s failed (%s); %s",
                                   d->tuning.base, strerror(-r),
                                   d->applied ? "the previous profile is applied again"
                                              : "every value is rolled back (see the journal)");
        }
        reply_applied(out, json, d, "choice reset; ");
        return CTL_EXIT_OK;
}

static int profile_show(struct daemon *d, const char *name, bool json, FILE *out)
{
        struct conf_error err = {};
        struct tuning t;

        /* No name: the running profile as it is applied, not as the files
         * say now. */
        if (!name) {
                status_print_profile(out, d->tuning.profile, json);
                return CTL_EXIT_OK;
        }
        if (tuning_load(d->args, name, &t, &err) < 0)
                return reply_error(out, json, "%s", err.message);
        status_print_profile(out, t.profile, json);
        tuning_clear(&t);
        return CTL_EXIT_OK;
}

#define PROFILE_USAGE "profile list | profile show [NAME] | profile NAME | profile --reset | profile --recommended"

static int cmd_profile(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;

        if (argc == 2 && streq(argv[1], "list")) {
                status_print_profiles(out, d->args->profile_dirs, d->args->n_profile_dirs, d->tuning.profile->name,
                                      d->applied, json);
                return CTL_EXIT_OK;
        }
        if ((argc == 2 || argc == 3) && streq(argv[1], "show"))
                return profile_show(d, argc == 3 ? argv[2] : NULL, json, out);
        if (argc == 2 && streq(argv[1], "--reset"))
                return profile_reset(d, json, out);
        if (argc == 2 && streq(argv[1], "--recommended"))
                return profile_switch(d, commands_recommended_profile(d), json, out);
        if (argc == 2)
                return profile_switch(d, argv[1], json, out);
        return usage(out, json, PROFILE_USAGE);
}

/* "profile list" and "profile show" only read; "profile NAME" switches. */
static bool profile_read_only(int argc, char *const *argv)
{
        return argc >= 2 && (streq(argv[1], "list") || streq(argv[1], "show"));
}

static int cmd_off(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        int r;

        if (argc != 1)
                return usage(out, json, "off");
        if (!d->applied && d->rollback->n_entries == 0) {
                if (json) {
                        json_print_open(out);
                        fputs(",\"applied\":false,\"not_restored\":0}\n", out);
                } else
                        fputs("already off: no value of vmtuned's is in place\n", out);
                return CTL_EXIT_OK;
        }
        r = daemon_off(d);
        if (r < 0)
                return reply_error(out, json, "values restored, but the rollback journal could not be removed: %s",
                                   strerror(-r));
        if (json) {
                json_print_open(out);
                fprintf(out, ",\"applied\":false,\"not_restored\":%d}\n", r);
                return CTL_EXIT_OK;
        }
        /* Left alone on purpose (someone else changed them): not a
         * failure, but then not "every value" was rolled back. */
        if (r > 0)
                fprintf(out, "rolled back, but %d value(s) left as found: changed by someone else since vmtuned "
                             "wrote them (see the journal); ", r);
        else
                fputs("every value rolled back; ", out);
        fprintf(out, "profile %s stays selected, not applied (vmtunectl profile NAME or reload applies again)\n",
                d->tuning.profile->name);
        return CTL_EXIT_OK;
}

static int cmd_reload(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        struct conf_error err = {};
        struct tuning t;
        int r, load;

        if (argc != 1)
                return usage(out, json, "reload");
        /* daemon_reload logs a configuration error; load once more here
         * only to tell the client what it is. */
        load = tuning_load(d->args, NULL, &t, &err);
        if (load >= 0)
                tuning_clear(&t);
        r = daemon_reload(d);
        if (r < 0 && load < 0)
                return reply_error(out, json, "reload failed, the running configuration stays: %s", err.message);
        if (r < 0)
                return reply_error(out, json, "reload failed (%s); %s", strerror(-r),
                                   d->applied ? "the previous profile is applied again"
                                              : "every value is rolled back (see the journal)");
        reply_applied(out, json, d, "configuration reloaded; ");
        return CTL_EXIT_OK;
}

/* What the plan left out and why (a knob with no effect on this host), and
 * a KSM knob the module holds back (merge_across_nodes pending): verify
 * compares neither, so it says so. */
static void print_verify_notes(FILE *out, struct daemon *d, bool json)
{
        struct target_list targets = {};
        struct ksm_report kr = {};
        size_t n = 0;

        (void) settings_plan(&d->root, d->tuning.profile, &targets);
        if (d->ksm && ksm_report(d->ksm, &kr) < 0)
                kr.numa[0] = '\0';
        if (json)
                fputs("\"notes\":[", out);
        for (size_t i = 0; i <= targets.n_notes; i++) {
                const char *text = i < targets.n_notes ? targets.notes[i].text : kr.numa[0] ? kr.numa : NULL;

                if (!text)
                        continue;
                if (json) {
                        fputs(n++ ? "," : "", out);
                        json_print_string(out, text);
                } else
                        fprintf(out, "note: %s\n", text);
        }
        if (json)
                fputs("],", out);
        target_list_free(&targets);
}

static int cmd_verify(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        struct verify_report v = {};
        bool have;
        int r;

        if (argc != 1)
                return usage(out, json, "verify");
        have = verify_now(d, &v);
        if (json) {
                json_print_open(out);
                fputs(",\"profile\":", out);
                json_print_string(out, d->tuning.profile->name);
                fprintf(out, ",\"applied\":%s,\"dry_run\":%s,", have ? "true" : "false",
                        d->args->dry_run ? "true" : "false");
                print_verify_notes(out, d, true);
                verify_report_print_json(out, &v);
                fputs("}\n", out);
        } else if (!have) {
                fprintf(out, "profile %s is not applied (vmtunectl off): nothing to verify\n",
                        d->tuning.profile->name);
        } else {
                fprintf(out, "profile %s%s\n", d->tuning.profile->name,
                        d->args->dry_run ? " (dry run: nothing was written, so everything may differ)" : "");
                verify_report_print_text(out, &v);
                print_verify_notes(out, d, false);
        }
        /* A key not on this kernel fails too: a typo or a kernel without
         * the feature, and the profile does not do what it says. */
        r = v.count[VERIFY_DRIFT] > 0 || v.n_absent > 0 ? CTL_EXIT_FAILURE : CTL_EXIT_OK;
        verify_report_free(&v);
        return r;
}

static int cmd_domains(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;
        const struct domain *doms = NULL;
        size_t n = 0;

        if (argc > 1)
                return usage(out, json, "domains");
        if (d->virt)
                doms = virt_domains(d->virt, &n);
        if (json) {
                /* {"nodes":[...] or null, "domains":[...]} */
                json_print_open(out);
                fputs(",\"nodes\":", out);
                if (d->balancer)
                        balancer_print_nodes(d->balancer, out, true);
                else
                        fputs("null", out);
                fputs(",\"domains\":", out);
                domains_print(out, doms, n, true);
                fputs("}\n", out);
                return CTL_EXIT_OK;
        }
        if (d->virt && !virt_is_connected(d->virt))
                fprintf(out, "libvirt: not connected (retrying in the background)\n");
        if (d->balancer) {
                balancer_print_nodes(d->balancer, out, false);
                fputc('\n', out);
        }
        domains_print(out, doms, n, false);
        return CTL_EXIT_OK;
}

static int cmd_plan(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct daemon *d = userdata;

        if (argc > 1)
                return usage(out, json, "plan");
        if (!d->balancer) {
                if (json) {
                        json_print_open(out);
                        fputs(",\"plan\":null,\"reason\":\"balancer disabled\"}\n", out);
                } else
                        fputs("the balancer is not running ([balancer] enabled=no, or libvirt unavailable)\n", out);
                return CTL_EXIT_OK;
        }
        balancer_print_plan(d->balancer, out, json);
        return CTL_EXIT_OK;
}

/* The metrics_file= text (metrics.h); there is no JSON form of it. */
static int cmd_metrics(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        struct metrics_snapshot s;

        if (argc != 1)
                return usage(out, json, "metrics");
        if (json)
                return reply_error(out, json, "metrics: Prometheus text only, no --json");
        metrics_gather(userdata, &s);
        metrics_format(out, &s);
        metrics_snapshot_done(&s);
        return CTL_EXIT_OK;
}

size_t commands_table(struct daemon *d, const struct control_command **ret)
{
        /* One daemon per process: the table can be static, its userdata
         * is filled in here. The usage strings are what the daemon lists
         * for an unknown command; vmtunectl --help, its completion and
         * vmtunectl(8) list the same commands (tests/system/test-vmtunectl.c). */
        static struct control_command table[] = {
                { "status", "status", true, cmd_status, NULL, NULL },
                { "profile", PROFILE_USAGE, false, cmd_profile, NULL, profile_read_only },
                { "verify", "verify", true, cmd_verify, NULL, NULL },
                { "domains", "domains", true, cmd_domains, NULL, NULL },
                { "plan", "plan", true, cmd_plan, NULL, NULL },
                { "metrics", "metrics", true, cmd_metrics, NULL, NULL },
                { "reload", "reload", false, cmd_reload, NULL, NULL },
                { "off", "off", false, cmd_off, NULL, NULL },
                { "advise", "advise [DOMAIN...]", true, cmd_advise, NULL, NULL },
                { "recommend", "recommend", true, cmd_recommend, NULL, NULL },
        };

        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                table[i].userdata = d;
        *ret = table;
        return ARRAY_SIZE(table);
}
