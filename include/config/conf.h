/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Option tables and the daemon configuration (/etc/vmtuned.conf).
 *
 * One table drives parsing, validation, --help, the example config and the
 * man page check (STYLE 10). A configuration is parsed whole into a new
 * struct vmtuned_conf and only then swapped in (STYLE 11). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/profile.h"
#include "base/util.h"

enum option_type {
        OPT_STRING,
        OPT_INT,       /* decimal, within [min, max]; ">N" too if allow_greater */
        OPT_DOUBLE,    /* decimal, within [dmin, dmax] */
        OPT_BOOL,      /* yes/no/true/false/1/0/on/off */
        OPT_ENUM,      /* one of choices[]; stored as char * */
        OPT_GLOB_LIST, /* comma separated globs, '!' negates; stored as char ** */
        OPT_NAME_LIST, /* comma separated names, order kept (scheduler fallbacks, include=) */
        OPT_LOG_LEVEL, /* one of choices[] ("err" ... "debug"), stored as int LOG_* */
};

/* One row of an option table. */
struct conf_option {
        const char *section;
        const char *key;
        enum option_type type;
        const char *default_value; /* NULL: unset */
        long min, max;             /* OPT_INT: range; lists: min = fewest items allowed */
        double dmin, dmax;         /* OPT_DOUBLE */
        const char *const *choices; /* OPT_ENUM, OPT_LOG_LEVEL, NULL-terminated */
        size_t offset;             /* field in struct vmtuned_conf; (size_t)-1 for profile keys */
        const char *help;          /* one line, for --help, the example and the man page */
        bool allow_greater;        /* OPT_INT: tuned's ">N" ("only if greater") is accepted too */
        /* OPT_STRING: extra check of the value; lists: of each item (without
         * its '!'). NULL: any printable text. item_rule says what it accepts. */
        bool (*item_valid)(const char *item);
        const char *item_rule;
};

/* Where a configuration or profile error is; filled by the loaders, logged
 * by their callers ("FILE:LINE: [section] key: what is wrong (allowed: ...)"). */
struct conf_error {
        char message[1024];
};

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
        char *kernel_numa_balancing;   /* "off", "on" or "keep" */
};

struct vmtuned_conf {
        char *file;                 /* path it was read from, or NULL for defaults */
        char *profile;              /* active profile name */
        int log_level;              /* LOG_* */
        char *libvirt_uri;
        char **exclude;             /* domain name globs never moved; NULL-terminated, never NULL */
        char *control_group;        /* group allowed on the control socket besides root; NULL: none */
        struct balancer_conf balancer;
        /* Local overrides: [sysctl], [vm], [ksm], [disk] sections of the
         * config file, applied on top of the active profile. */
        struct setting *overrides;
        size_t n_overrides;
};

extern const struct conf_option conf_options[];     /* daemon options, {NULL} terminated */
/* A profile's [main] keys (summary, include), {NULL} terminated; with
 * profile_keys[] (profile.h) for the man page check. */
extern const struct conf_option profile_main_options[];

/* Load the configuration at path. A missing file is an error only if
 * must_exist (an explicit --config); otherwise the defaults apply.
 * On error returns -EINVAL/-errno, fills err and leaves *ret untouched. */
int conf_load(const char *path, bool must_exist, struct vmtuned_conf **ret, struct conf_error *err);
void conf_free(struct vmtuned_conf *conf);

/* Check one value against an option row; fills err (without file/line):
 * "[section] key: what is wrong (allowed: ...)". */
int option_check_value(const struct conf_option *opt, const char *value, struct conf_error *err);
/* What a row accepts, as in the errors' "(allowed: ...)": "0..2",
 * "always, madvise, never", ... Writes a NUL-terminated string into buf. */
void option_describe_allowed(const struct conf_option *opt, char *buf, size_t size);
/* yes/true/on/1 and no/false/off/0, any case; -EINVAL otherwise. */
int option_parse_bool(const char *s, bool *ret);
/* A whole finite decimal number; -EINVAL otherwise. */
int option_parse_double(const char *s, double *ret);
/* Split a list value (OPT_GLOB_LIST, OPT_NAME_LIST) into trimmed items,
 * NULL-terminated (empty value: no items). Only for checked values. */
char **option_split_list(const char *value);
void option_list_free(char **items);

/* Write the example configuration (every option commented, with its help). */
void conf_write_example(FILE *f);

/* One "section key" line per daemon option, per profile key and per [main]
 * key, so tests/check-man can see that the man pages name every one. */
void conf_list_options(FILE *f);

/* Error helpers: conf_error_set formats the message (err may be NULL);
 * conf_error_prefix puts "FILE:LINE: " (or "FILE: " when line is 0) in front. */
void conf_error_set(struct conf_error *err, const char *fmt, ...) _printf_(2, 3);
void conf_error_prefix(struct conf_error *err, const char *file, unsigned line);

/* The INI reader shared by profiles and the config file (src/conf-parse.c).
 * Callbacks fill err without file/line and return -EINVAL; the parser puts
 * "FILE:LINE: " in front. */
struct conf_parser {
        const char *file;  /* for messages */
        void *userdata;
        /* Each "[section]" line; may be NULL. */
        int (*section)(void *userdata, const char *section, struct conf_error *err);
        /* Each "key = value" line: section, key and value trimmed. */
        int (*entry)(void *userdata, const char *section, const char *key, const char *value,
                     unsigned line, struct conf_error *err);
};

/* Parse INI text. Stops at the first error: -EINVAL with err set. */
int conf_parse_text(const char *text, const struct conf_parser *p, struct conf_error *err);

/* Read a whole (small, text) file into a NUL-terminated buffer. -errno
 * (-ENOENT: no such file), -EFBIG past 1 MiB, -EINVAL if it holds a NUL
 * byte; err says which, starting with "PATH: ". */
int conf_read_file(const char *path, char **ret, struct conf_error *err);
