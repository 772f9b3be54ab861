/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtuned --check-config [--strict]` (include/daemon/check-config.h).
 * Reads the configuration, the profiles and, under the root prefix, what
 * planning reads and the files of the planned keys; writes nothing. */
#include <stdio.h>

#include "daemon/check-config.h"

#include "args.h"
#include "base/kfile.h"
#include "base/log.h"
#include "config/conf.h"
#include "config/ini.h"
#include "config/profile.h"
#include "daemon/daemon.h"
#include "tuning/absent.h"
#include "tuning/plan.h"

static void print_settings(const struct profile *p)
{
        printf("profile %s (%s)%s%s\n", p->name, p->file, p->summary ? ": " : "", p->summary ? p->summary : "");
        for (size_t i = 0; i < p->n_settings; i++) {
                const struct setting *s = &p->settings[i];
                _cleanup_free_ char *source = setting_source(s);

                printf("  [%s] %s = %s    # %s\n", s->section, s->key, s->value, source ? source : "override");
        }
}

/* Every planned key whose file this kernel lacks, one line each (an error
 * with --strict, else a warning); how many. */
static unsigned report_absent(const struct kroot *root, const struct target_list *targets, bool strict)
{
        unsigned n = 0;

        for (size_t i = 0; i < targets->n; i++) {
                const struct target *t = &targets->v[i];
                _cleanup_free_ char *suggestion = NULL, *msg = NULL;

                if (!target_absent(root, t))
                        continue;
                suggestion = target_suggest(root, t);
                msg = target_absent_message(t, suggestion);
                log_event(strict ? LOG_ERR : LOG_WARNING, MSGID_SETTING_ABSENT, LOG_FIELDS({ "VMTUNED_KEY", t->key }),
                          "%s (no %s under %s)", msg, t->path, root->path);
                n++;
        }
        return n;
}

int check_config_run(const struct args *args)
{
        struct target_list targets = {};
        struct conf_error err = {};
        struct tuning tuning = {};
        struct kroot root = {};
        unsigned absent = 0;
        int r;

        r = tuning_load(args, NULL, &tuning, &err);
        if (r < 0) {
                log_event(LOG_ERR, MSGID_CONFIG_ERROR, NULL, "configuration error, nothing changed: %s", err.message);
                return EXIT_CONFIG;
        }
        /* What a start would do with a persisted choice; nothing is removed here. */
        if (tuning.state_note)
                log_event(tuning.state_note_level, MSGID_SAVED_PROFILE_IGNORED, NULL, "%s", tuning.state_note);
        log_set_max_level(tuning.conf->log_level);
        /* Dry run: nothing here writes, and nothing could. */
        r = kroot_open(args->root, true, &root);
        if (r < 0) {
                (void) log_event_errno(LOG_ERR, r, MSGID_DAEMON_FAILED, NULL, "cannot open root %s: %m", args->root);
                tuning_clear(&tuning);
                return EXIT_CONFIG;
        }
        print_settings(tuning.profile);
        if (settings_plan(&root, tuning.profile, &targets) == 0) {
                settings_log_notes(&targets);
                printf("on this host (root %s):\n", root.path);
                for (size_t i = 0; i < targets.n; i++)
                        printf("  %s = %s%s    -> %s\n", targets.v[i].key, targets.v[i].only_if_greater ? ">" : "",
                               targets.v[i].value, targets.v[i].path);
                absent = report_absent(&root, &targets, args->strict);
        }
        if (absent > 0)
                log_event(args->strict ? LOG_ERR : LOG_WARNING, MSGID_SETTING_ABSENT, NULL,
                          "%u key%s not on this kernel%s", absent, absent == 1 ? "" : "s",
                          args->strict ? " (--strict): failing" : "");
        target_list_free(&targets);
        kroot_close(&root);
        tuning_clear(&tuning);
        return absent > 0 && args->strict ? CHECK_CONFIG_EXIT_NOT_ON_KERNEL : EXIT_OK;
}
