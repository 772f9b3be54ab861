/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon: load, recover, apply, then serve the event loop until told to
 * stop, and put every value back on the way out. */
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "daemon/daemon.h"
#include "base/log.h"
#include "base/util.h"
#include "config/conf.h"
#include "config/ini.h"
#include "config/profile.h"
#include "daemon/control.h"
#include "daemon/metrics.h"
#include "balance/balancer.h"
#include "tuning/hotplug.h"
#include "tuning/ksm.h"
#include "tuning/plan.h"
#include "tuning/rollback.h"
#include "virt/domain.h"
#include "virt/virt.h"

/* Which part did not start, for MSGID_FEATURE_DISABLED. */
#define FEATURE(name) LOG_FIELDS({ "VMTUNED_FEATURE", name })

#define DEFAULT_CONFIG SYSCONFDIR "/vmtuned.conf"

/* [balancer] kernel_numa_balancing: off or on is a setting like any other,
 * rolled back on stop; the default, keep, writes nothing (the lab measured no
 * harm beside our moves: vmtuned.conf(5)). */
static void add_numa_balancing_setting(struct tuning *t)
{
        const struct balancer_conf *b = &t->conf->balancer;
        _cleanup_free_ char *option = NULL;
        struct setting s = {
                .section = (char *) "sysctl",
                .key = (char *) "kernel.numa_balancing",
        };

        if (!b->enabled || !b->kernel_numa_balancing || streq(b->kernel_numa_balancing, "keep"))
                return;
        option = xasprintf("[balancer] kernel_numa_balancing=%s", b->kernel_numa_balancing);
        s.file = t->conf->file;
        s.option = option;
        s.value = (char *) (streq(b->kernel_numa_balancing, "on") ? "1" : "0");
        profile_set(t->profile, &s);
}

/* The profile chosen with vmtunectl and persisted, if it still applies
 * and loads: 1 with t->profile set; 0 to go on with t->base, with a note
 * in t saying why when there was a choice. */
static int load_persisted(const struct args *args, struct tuning *t)
{
        _cleanup_free_ char *file = NULL, *base_from = NULL;
        struct state_profile st = {};
        struct conf_error perr = {};
        int r;

        r = state_profile_read(args->state_dir, &st);
        if (r == 0)
                return 0;
        file = state_profile_path(args->state_dir);
        base_from = profile_source_describe(t->base_source, t->conf->file, args->state_dir, args->dry_run);
        if (r < 0) {
                t->state_note = xasprintf("ignoring %s: %s; running profile %s (%s)", file,
                                          state_profile_strerror(r), t->base, base_from);
                t->state_note_level = LOG_WARNING;
                return 0;
        }
        if (!state_profile_applies(&st, t->base)) {
                t->state_note = xasprintf("forgetting profile %s chosen with vmtunectl (%s): it was chosen over "
                                          "profile %s, and the %s now says %s, which wins",
                                          st.name, file, st.base, base_from, t->base);
                t->state_note_level = LOG_NOTICE;
                t->state_stale = true;
                state_profile_clear(&st);
                return 0;
        }
        r = profile_load(args->profile_dirs, args->n_profile_dirs, st.name, &t->profile, &perr);
        if (r < 0) {
                t->state_note = xasprintf("%s names profile %s, which cannot be loaded (%s); running profile %s "
                                          "(%s) instead", file, st.name, perr.message, t->base, base_from);
                t->state_note_level = LOG_WARNING;
                state_profile_clear(&st);
                return 0;
        }
        t->source = PROFILE_SOURCE_PERSISTED;
        state_profile_clear(&st);
        return 1;
}

/* profile_name, else (use_state) the persisted choice, else the base. */
static int tuning_load_choice(const struct args *args, const char *profile_name, bool use_state,
                              struct tuning *ret, struct conf_error *err)
{
        struct tuning t = {};
        int r = 0;

        r = conf_load(args->config_file ? args->config_file : DEFAULT_CONFIG, args->config_file != NULL,
                      &t.conf, err);
        if (r < 0)
                return r;
        t.base = args->profile ? args->profile : t.conf->profile;
        t.base_source = args->profile ? PROFILE_SOURCE_COMMAND_LINE
                        : t.conf->profile_in_file ? PROFILE_SOURCE_CONFIG : PROFILE_SOURCE_DEFAULT;
        if (profile_name) {
                /* A vmtunectl choice; profile_switch says when it is saved. */
                t.source = PROFILE_SOURCE_UNSAVED;
                r = profile_load(args->profile_dirs, args->n_profile_dirs, profile_name, &t.profile, err);
        } else if (!use_state || !args->state_dir || load_persisted(args, &t) == 0) {
                t.source = t.base_source;
                r = profile_load(args->profile_dirs, args->n_profile_dirs, t.base, &t.profile, err);
        }
        if (r < 0) {
                tuning_clear(&t);
                return r;
        }
        /* Local overrides from the config file win over the profile. */
        for (size_t i = 0; i < t.conf->n_overrides; i++)
                profile_set(t.profile, &t.conf->overrides[i]);
        add_numa_balancing_setting(&t);
        *ret = t;
        return 0;
}

int tuning_load(const struct args *args, const char *profile_name, struct tuning *ret,
                struct conf_error *err)
{
        return tuning_load_choice(args, profile_name, true, ret, err);
}

int tuning_load_base(const struct args *args, struct tuning *ret, struct conf_error *err)
{
        return tuning_load_choice(args, NULL, false, ret, err);
}

void tuning_settle_state(const struct args *args, struct tuning *t)
{
        int r;

        if (t->state_note)
                log_event(t->state_note_level, MSGID_SAVED_PROFILE_IGNORED, NULL, "%s", t->state_note);
        if (t->state_stale && !args->dry_run) {
                r = state_profile_remove(args->state_dir);
                if (r < 0)
                        (void) log_event_errno(LOG_WARNING, r, MSGID_STATE_SAVE_FAILED, NULL,
                                               "cannot remove %s/" STATE_PROFILE_FILE ": %m",
                                               args->state_dir);
        }
        free(t->state_note);
        t->state_note = NULL;
        t->state_stale = false;
}

void tuning_clear(struct tuning *t)
{
        profile_free(t->profile);
        conf_free(t->conf);
        free(t->state_note);
        *t = (struct tuning){};
}

static void arm_restore_retry(struct daemon *d);

/* After every change of state (start, switch, reload, off): systemd's
 * status line, metrics_file= written anew, and the retry of what waits. */
static void notify_status(struct daemon *d)
{
        arm_restore_retry(d);
        metrics_update(d->metrics);
        if (!d->applied) {
                sd_notifyf(false, "STATUS=Settings rolled back (off); profile %s not applied",
                           d->tuning.profile->name);
                return;
        }
        sd_notifyf(false, "STATUS=Profile %s: %u applied, %u already set, %u skipped%s",
                   d->tuning.profile->name, d->stats.applied, d->stats.unchanged, d->stats.skipped,
                   d->args->dry_run ? " (dry run)" : "");
}

#define KSM_MERGE_ACROSS_NODES "sys/kernel/mm/ksm/merge_across_nodes"

/* The log line after a restore that left values (r > 0) or could not
 * rewrite the journal (r < 0). */
static void log_restore_result(const struct daemon *d, int r)
{
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                                       "could not rewrite the rollback journal %s: %m; it still holds "
                                       "every original", d->rollback->file);
        else if (r > 0)
                log_event(LOG_WARNING, MSGID_SETTING_NOT_RESTORED, LOG_FIELDS({ "VMTUNED_COUNT", LOG_I64(r) }),
                          "%d setting(s) were not restored (changed by someone else, gone, or kept in the "
                          "journal to try again); see above", r);
}

/* How often entries that wait (rollback.h: huge pages a VM holds, pages
 * KSM merged) are looked at again while vmtuned runs. Each look reads two
 * files an entry; a restore happens, and is logged, only once nothing
 * blocks it. A timer rather than libvirt's stop events: the pages may be
 * held by a QEMU libvirt does not know, and libvirt may be down. */
#define RESTORE_RETRY_USEC (5 * UINT64_C(1000000))

static int on_restore_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct daemon *d = userdata;
        int r = rollback_retry_waiting(d->rollback, &d->root);

        if (r < 0)
                log_restore_result(d, r);
        if (r != 0)
                metrics_update(d->metrics);
        arm_restore_retry(d);
        return 0;
}

static void arm_restore_retry(struct daemon *d)
{
        int r;

        if (!rollback_has_waiting(d->rollback)) {
                if (d->restore_retry)
                        (void) sd_event_source_set_enabled(d->restore_retry, SD_EVENT_OFF);
                return;
        }
        if (!d->restore_retry) {
                r = sd_event_add_time_relative(d->event, &d->restore_retry, CLOCK_MONOTONIC, RESTORE_RETRY_USEC, 0,
                                               on_restore_retry, d);
                if (r < 0)
                        (void) log_event_errno(LOG_WARNING, r, MSGID_SETTING_NOT_RESTORED, NULL,
                                               "cannot arm the timer that retries waiting restores: %m; "
                                               "they are tried again at the next start");
                return;
        }
        (void) sd_event_source_set_time_relative(d->restore_retry, RESTORE_RETRY_USEC);
        (void) sd_event_source_set_enabled(d->restore_retry, SD_EVENT_ONESHOT);
}

/* Stop and off: every value back. Nothing may write behind the restore,
 * so the modules that apply settings on their own pause first; KSM
 * unmerges only where the configuration asks (ksm.h). */
static int restore_tuning(struct daemon *d)
{
        int r;

        if (d->hotplug)
                hotplug_set_profile(d->hotplug, NULL);
        if (d->ksm)
                (void) ksm_prepare_restore(d->ksm, true, rollback_find(d->rollback, KSM_MERGE_ACROSS_NODES));
        r = rollback_restore_all(d->rollback, &d->root);
        d->applied = false;
        log_restore_result(d, r);
        return r;
}

/* The one log line of a journal failure while applying a profile: what
 * happened and what the daemon does about it (next). */
static void log_journal_failure(const struct daemon *d, int r, const char *profile, const char *next)
{
        (void) log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                               "profile %s: cannot update the rollback journal %s: %m; every value it wrote is "
                               "rolled back (a change without its original on disk could not be undone), %s",
                               profile, d->rollback->file, next);
}

/* Apply targets planned from the running profile. On a journal failure
 * everything already written is rolled back: a value without its original
 * on disk must not stay. The caller logs the failure. */
static int apply_tuning(struct daemon *d, const struct target_list *targets)
{
        int r;

        r = settings_apply(&d->root, d->rollback, targets, &d->stats);
        if (r < 0) {
                (void) rollback_restore_all(d->rollback, &d->root);
                return r;
        }
        d->applied = true;
        if (d->ksm)
                (void) ksm_configure(d->ksm, d->tuning.profile);
        if (d->hotplug)
                hotplug_set_profile(d->hotplug, d->tuning.profile);
        d->applied_since_usec = 0;
        (void) sd_event_now(d->event, CLOCK_REALTIME, &d->applied_since_usec);
        log_event(LOG_NOTICE, MSGID_PROFILE_SWITCH,
                  LOG_FIELDS({ "VMTUNED_PROFILE", d->tuning.profile->name },
                             { "VMTUNED_APPLIED", LOG_U64(d->stats.applied) },
                             { "VMTUNED_UNCHANGED", LOG_U64(d->stats.unchanged) },
                             { "VMTUNED_SKIPPED", LOG_U64(d->stats.skipped) }),
                  "profile %s applied: %u changed, %u already set, %u skipped%s", d->tuning.profile->name,
                  d->stats.applied, d->stats.unchanged, d->stats.skipped,
                  d->args->dry_run ? " (dry run: nothing written)" : "");
        return 0;
}

/* What the next plan still wants of the journal: its targets, and the
 * KSM knobs the module writes itself under the next profile. */
struct next_plan {
        const struct target_list *targets;
        const struct profile *profile;
};

static bool wanted_by_next_plan(const char *path, void *userdata)
{
        const struct next_plan *next = userdata;

        for (size_t i = 0; i < next->targets->n; i++)
                if (streq(next->targets->v[i].path, path))
                        return true;
        return ksm_module_keeps(next->profile, path);
}

/* Every transition (start, reload, profile switch, recovery after a
 * crash) reconciles: plan first (planning reads only what the kernel
 * offers, so a profile that cannot be planned fails before anything is
 * undone), restore only the journal entries the new plan drops, then
 * apply, which writes only what differs and keeps a changed key's first
 * original. A value both plans set is never touched, a disk's scheduler
 * never switched twice, and KSM never unmerged on the way (ksm.h). The
 * plan is settings_plan's, the same verify and status compare with.
 * -errno when the rollback journal could not be written (not logged here). */
static int plan_reconcile_apply(struct daemon *d, const struct profile *p)
{
        struct target_list targets = {};
        struct next_plan next = { .targets = &targets, .profile = p };
        int r;

        r = settings_plan(&d->root, p, &targets);
        if (r < 0)
                return r;
        settings_log_notes(&targets);
        if (d->hotplug)
                hotplug_set_profile(d->hotplug, NULL);
        if (d->rollback->n_entries > 0) {
                bool restoring_numa = rollback_find(d->rollback, KSM_MERGE_ACROSS_NODES) &&
                                      !ksm_module_keeps(p, KSM_MERGE_ACROSS_NODES);

                if (d->ksm)
                        (void) ksm_prepare_restore(d->ksm, false, restoring_numa);
                r = rollback_restore_unwanted(d->rollback, &d->root, wanted_by_next_plan, &next);
                if (r < 0) {
                        /* As a failed apply: nothing of it may stay without the journal behind it. */
                        (void) rollback_restore_all(d->rollback, &d->root);
                        target_list_free(&targets);
                        return r;
                }
                log_restore_result(d, r);
        }
        r = apply_tuning(d, &targets);
        target_list_free(&targets);
        return r;
}

int daemon_switch(struct daemon *d, struct tuning *t)
{
        struct tuning old = d->tuning;
        int r;

        d->tuning = *t;
        r = plan_reconcile_apply(d, t->profile);
        if (r < 0) {
                _cleanup_free_ char *next = xasprintf("applying profile %s again", old.profile->name);
                int again;

                log_journal_failure(d, r, t->profile->name, next);
                d->tuning = old;
                again = plan_reconcile_apply(d, old.profile);
                if (again < 0)
                        log_journal_failure(d, again, old.profile->name, "nothing of vmtuned's is applied");
                notify_status(d);
                return r;
        }
        *t = (struct tuning){};
        tuning_clear(&old);
        notify_status(d);
        return 0;
}

int daemon_off(struct daemon *d)
{
        int r = restore_tuning(d);

        notify_status(d);
        return r;
}

static void log_config_error(int level, const struct conf_error *err, const char *what)
{
        log_event(level, MSGID_CONFIG_ERROR, NULL, "%s: %s", what, err->message);
}

static void start_balancer(struct daemon *d, const struct balancer_conf *conf)
{
        int r;

        if (!conf->enabled || !d->virt)
                return;
        r = balancer_new(d->event, &d->root, d->virt, conf, &d->balancer);
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_FEATURE_DISABLED, FEATURE("balancer"),
                                       "cannot start the NUMA balancer: %m; host settings stay applied");
}

/* Reload: thresholds change in place (per-VM state stays); enabled= starts
 * or stops it. */
static void reconfigure_balancer(struct daemon *d, const struct balancer_conf *conf)
{
        if (!conf->enabled) {
                balancer_free(d->balancer);
                d->balancer = NULL;
        } else if (d->balancer)
                balancer_reconfigure(d->balancer, conf);
        else
                start_balancer(d, conf);
}

int daemon_reload(struct daemon *d)
{
        struct conf_error err = {};
        struct tuning t;
        int r;

        (void) sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration");
        /* The profile chosen with vmtunectl lasts, persisted, until the
         * configuration's profile= changes (tuning_load, state.h). */
        r = tuning_load(d->args, NULL, &t, &err);
        if (r < 0) {
                log_config_error(LOG_ERR, &err, "reload failed, keeping the running configuration");
                (void) sd_notify(false, "READY=1");
                notify_status(d);
                return r;
        }
        tuning_settle_state(d->args, &t);
        log_set_max_level(t.conf->log_level);
        if (d->virt)
                (void) virt_reconfigure(d->virt, &(struct virt_options){
                        .uri = t.conf->libvirt_uri, .exclude = t.conf->exclude, .root = &d->root });
        reconfigure_balancer(d, &t.conf->balancer);
        log_event(LOG_NOTICE, MSGID_RELOADED, LOG_FIELDS({ "VMTUNED_PROFILE", t.profile->name }),
                  "configuration reloaded; profile %s", t.profile->name);
        r = daemon_switch(d, &t);
        tuning_clear(&t);
        (void) sd_notify(false, "READY=1");
        return r;
}

static int on_stop_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        log_info("received %s, restoring settings and stopping", strsignal((int) si->ssi_signo));
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

static int on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        (void) daemon_reload(userdata);
        return 0;
}

/* Every value back and the closing line, once: from the loop's exit
 * source, before libvirt is let go (a hung libvirtd must not hold the
 * host's settings), or after a loop that failed without running it. */
static void stop_tuning(struct daemon *d)
{
        int r_restore;

        if (d->stopped)
                return;
        d->stopped = true;
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Restoring original settings");
        r_restore = restore_tuning(d);
        /* One closing line that agrees with the restore's own warnings. */
        if (d->rollback->n_entries > 0)
                log_event(LOG_WARNING, MSGID_STOPPED_PENDING,
                          LOG_FIELDS({ "VMTUNED_COUNT", LOG_U64(d->rollback->n_entries) }),
                          "vmtuned stopped; %zu original value(s) could not be restored and stay in %s for the "
                          "next start", d->rollback->n_entries, d->rollback->file);
        else if (r_restore > 0)
                log_event(LOG_NOTICE, MSGID_STOPPED_PARTIAL, LOG_FIELDS({ "VMTUNED_COUNT", LOG_I64(r_restore) }),
                          "vmtuned stopped; original settings restored but %d left as someone else set them or "
                          "gone (see above)", r_restore);
        else
                log_event(LOG_INFO, MSGID_STOPPED, NULL, "vmtuned stopped; original settings restored");
}

/* Runs while the loop is exiting, when sources can still be added: libvirt
 * hands back its handles on close, and they must be released from the loop. */
static int on_loop_exit(sd_event_source *s, void *userdata)
{
        struct daemon *d = userdata;

        control_free(d->control);
        d->control = NULL;
        metrics_free(d->metrics);
        d->metrics = NULL;
        balancer_free(d->balancer);
        d->balancer = NULL;
        ksm_free(d->ksm);
        d->ksm = NULL;
        hotplug_free(d->hotplug);
        d->hotplug = NULL;
        d->restore_retry = sd_event_source_disable_unref(d->restore_retry);
        stop_tuning(d);
        virt_free(d->virt);
        d->virt = NULL;
        return 0;
}

static int setup_loop(struct daemon *d)
{
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = sd_event_default(&d->event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(d->event, NULL, SIGTERM, on_stop_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGINT, on_stop_signal, d);
        if (r >= 0)
                r = sd_event_add_signal(d->event, NULL, SIGHUP, on_reload_signal, d);
        if (r >= 0)
                r = sd_event_add_exit(d->event, NULL, on_loop_exit, d);
        if (r >= 0)
                r = sd_event_set_watchdog(d->event, true); /* no-op unless systemd asks */
        return r < 0 ? r : 0;
}

/* The group allowed on the control socket besides root, or (gid_t)-1. */
static gid_t control_gid(const struct vmtuned_conf *conf)
{
        struct group *g;

        if (!conf->control_group)
                return (gid_t) -1;
        g = getgrnam(conf->control_group);
        if (!g) {
                log_event(LOG_WARNING, MSGID_CONTROL_ERROR, NULL,
                          "control_group=%s: no such group; the control socket stays root-only",
                          conf->control_group);
                return (gid_t) -1;
        }
        return g->gr_gid;
}

/* KSM's committed memory: what the running domains were given, from the
 * domain table (not ksmtuned's RSS of processes named like qemu). */
static uint64_t committed_kib(void *userdata)
{
        struct daemon *d = userdata;
        const struct domain *doms;
        uint64_t sum = 0;
        size_t n = 0;

        /* The first decision comes with the profile, before libvirt is
         * asked: "no domains" then would be a guess; so would the empty
         * table of a connection not made yet or lost. */
        if (!d->libvirt_asked)
                return KSM_COMMITTED_UNKNOWN;
        if (!d->virt)
                return 0;
        if (!virt_is_connected(d->virt))
                return KSM_COMMITTED_UNKNOWN;
        doms = virt_domains(d->virt, &n);
        for (size_t i = 0; i < n; i++)
                sum += doms[i].memory_kib;
        return sum;
}

/* The modules that apply settings after start: they need the loop and the
 * journal, and are configured by apply_tuning once the profile is in place.
 * Either failing leaves the profile applied. */
static void start_setting_modules(struct daemon *d)
{
        int r;

        r = ksm_new(d->event, &(struct ksm_options){ .root = &d->root, .rollback = d->rollback,
                                                      .committed_kib = committed_kib, .userdata = d },
                    &d->ksm);
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_FEATURE_DISABLED, FEATURE("ksm"),
                                       "cannot start the KSM module: %m; [ksm] mode=auto will not act");
        r = hotplug_new(d->event, &(struct hotplug_options){ .root = &d->root, .rollback = d->rollback },
                        &d->hotplug);
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_FEATURE_DISABLED, FEATURE("hotplug"),
                                       "cannot watch for new disks: %m; disks added later get no [disk] settings");
}

/* The control socket, before READY=1: vmtunectl works as soon as
 * `systemctl start` returns. Failing does not stop the host settings. */
static void open_control(struct daemon *d)
{
        const struct control_command *cmds;
        size_t n_cmds = d->commands(d, &cmds);
        int r;

        r = control_new(d->event, d->args->runtime_dir, control_gid(d->tuning.conf), cmds, n_cmds, &d->control);
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_FEATURE_DISABLED, FEATURE("control"),
                                       "cannot open the control socket in %s: %m; vmtunectl will not work",
                                       d->args->runtime_dir);
}

/* libvirt, the balancer and the metrics, after READY=1. The unit orders
 * vmtuned before libvirtd, so that the profile is in the kernel before an
 * autostarted guest starts; libvirtd (socket-activated or not) starts
 * once vmtuned is ready, and a connection made before READY would wait
 * for it while it waits for us. A libvirtd not there yet is retried with
 * backoff (virt.c). None of this failing stops the host settings. */
static void follow_libvirt(struct daemon *d)
{
        int r;

        r = virt_new(d->event, &(struct virt_options){ .uri = d->tuning.conf->libvirt_uri,
                                                         .exclude = d->tuning.conf->exclude,
                                                         .root = &d->root },
                     &d->virt);
        d->libvirt_asked = true;
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_FEATURE_DISABLED, FEATURE("libvirt"),
                                       "cannot follow libvirt: %m; domains will not be balanced");
        else if (virt_is_connected(d->virt))
                (void) ksm_domains_known(d->ksm);
        start_balancer(d, &d->tuning.conf->balancer);
        r = metrics_new(d->event, d, &d->metrics);
        if (r < 0)
                (void) log_event_errno(LOG_ERR, r, MSGID_FEATURE_DISABLED, FEATURE("metrics"),
                                       "cannot start the metrics: %m; metrics_file= is not written");
        else
                metrics_update(d->metrics); /* the first file, and its timer */
}

static int daemon_start(struct daemon *d)
{
        struct conf_error err = {};
        bool stale = false;
        int r;

        r = tuning_load(d->args, NULL, &d->tuning, &err);
        if (r < 0) {
                log_config_error(LOG_ERR, &err, "configuration error, nothing changed");
                return EXIT_CONFIG;
        }
        log_set_max_level(d->tuning.conf->log_level);
        r = kroot_open(d->args->root, d->args->dry_run, &d->root);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_DAEMON_FAILED, NULL, "cannot open root %s: %m", d->args->root);
                return EXIT_CONFIG;
        }
        r = rollback_open(d->args->runtime_dir, &d->rollback, &stale);
        if (r < 0)
                return EXIT_RUNTIME; /* rollback_open said why */
        /* Only with the lock: a second instance touches nothing. */
        tuning_settle_state(d->args, &d->tuning);
        if (stale)
                log_event(LOG_WARNING, MSGID_CRASH_RECOVERY,
                          LOG_FIELDS({ "VMTUNED_COUNT", LOG_U64(d->rollback->n_entries) }),
                          "found a rollback journal with %zu original value(s) from an earlier run (it did not "
                          "stop cleanly, or could not restore them); they stay the originals: what the profile "
                          "no longer sets is restored, the rest is kept", d->rollback->n_entries);
        r = setup_loop(d);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_DAEMON_FAILED, NULL, "cannot set up the event loop: %m");
                return EXIT_RUNTIME;
        }
        start_setting_modules(d);
        /* Reconciles with the stale journal, if any. On failure everything
         * is rolled back. */
        r = plan_reconcile_apply(d, d->tuning.profile);
        if (r < 0) {
                log_journal_failure(d, r, d->tuning.profile->name, "stopping");
                return EXIT_RUNTIME;
        }
        open_control(d);
        return EXIT_OK;
}

/* The sampler keeps each VM thread's schedstat open (half the soft limit
 * at most). systemd gives services a soft limit of 1024, enough for about
 * 100 VMs, and a high hard one, expecting a daemon that uses poll/epoll
 * (as sd-event and libvirt do, never select) to raise the soft limit
 * itself. */
static void raise_fd_limit(void)
{
        struct rlimit nofile;

        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                (void) setrlimit(RLIMIT_NOFILE, &nofile);
        }
}

int daemon_run(const struct args *args, daemon_commands_fn commands)
{
        struct daemon d = { .args = args, .commands = commands };
        _cleanup_free_ char *source = NULL;
        int r;

        /* A closed stderr or client socket is an error to handle where it
         * happens, never a reason to die without restoring. */
        (void) signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();

        r = daemon_start(&d);
        if (r != EXIT_OK)
                goto out;

        source = profile_source_describe(d.tuning.source, d.tuning.conf->file, args->state_dir, args->dry_run);
        log_event(LOG_INFO, MSGID_STARTED, LOG_FIELDS({ "VMTUNED_PROFILE", d.tuning.profile->name }),
                  "vmtuned " VMTUNED_VERSION " started with profile %s (%s)", d.tuning.profile->name, source);
        (void) sd_notify(false, "READY=1");
        notify_status(&d);
        follow_libvirt(&d);

        r = sd_event_loop(d.event);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_DAEMON_FAILED, NULL, "event loop failed: %m");
                r = EXIT_RUNTIME;
        } else
                r = EXIT_OK;

        stop_tuning(&d);
out:
        control_free(d.control);
        virt_free(d.virt);
        rollback_free(d.rollback);
        tuning_clear(&d.tuning);
        kroot_close(&d.root);
        sd_event_unref(d.event);
        return r;
}
