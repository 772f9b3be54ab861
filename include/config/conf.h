/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon configuration (/etc/vmtuned.conf), src/config/conf.c.
 *
 * Its option table (conf_options[], rows as in option.h) drives parsing,
 * validation, --help, the example config and the man page check
 * (STYLE 10). A configuration is parsed whole into a new struct
 * vmtuned_conf and only then swapped in (STYLE 11). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/option.h"
#include "config/profile.h"

struct conf_error;

struct balancer_conf {
        bool enabled;
        long interval_sec;
        long min_nr_running_diff;      /* seed 004: high - low >= 2 */
        double min_load_ratio;         /* seed 004: load_high / load_low > 1.1 */
        double min_load_high;          /* seed 004: load_high > 1.0 */
        long probation_ticks;
        long cooldown_ticks;
        long max_moves_per_tick;
        long max_migrate_mb_per_tick;
        double idle_floor;             /* VMs below this load stay (lowered on light hosts) */
        char *kernel_numa_balancing;   /* "off", "on" or "keep" */
};

struct vmtuned_conf {
        char *file;                 /* path it was read from, or NULL for defaults */
        char *profile;              /* active profile name */
        bool profile_in_file;       /* profile= was in the file (else the built-in default) */
        int log_level;              /* LOG_* */
        char *libvirt_uri;
        char **exclude;             /* domain name globs never moved; NULL-terminated, never NULL */
        char *control_group;        /* group allowed on the control socket besides root; NULL: none */
        char *metrics_file;         /* Prometheus text file rewritten by the daemon; NULL: none */
        struct balancer_conf balancer;
        /* Local overrides: [sysctl], [vm], [ksm], [disk] sections of the
         * config file, applied on top of the active profile. */
        struct setting *overrides;
        size_t n_overrides;
};

extern const struct conf_option conf_options[];     /* daemon options, {NULL} terminated */

/* Load the configuration at path. A missing file is an error only if
 * must_exist (an explicit --config); otherwise the defaults apply.
 * On error returns -EINVAL/-errno, fills err and leaves *ret untouched. */
int conf_load(const char *path, bool must_exist, struct vmtuned_conf **ret, struct conf_error *err);
void conf_free(struct vmtuned_conf *conf);

/* Write the example configuration (every option commented, with its help). */
void conf_write_example(FILE *f);

/* One "section key" line per daemon option, per profile key and per [main]
 * key, so tests/check-man can see that the man pages name every one. */
void conf_list_options(FILE *f);
