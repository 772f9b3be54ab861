/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles: tuned-style INI files NAME.conf with [main] summary= include=,
 * and setting sections [sysctl], [vm], [ksm], [disk]. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config/option.h"

struct conf_error;

/* One resolved setting and where it was defined. */
struct setting {
        char *section;  /* "sysctl", "vm", "ksm" or "disk" */
        char *key;      /* "vm.swappiness", "transparent_hugepages", "scheduler", ... */
        char *value;    /* as written, trimmed */
        char *file;     /* file that defined the winning value */
        unsigned line;
        /* NULL, or for a setting derived from a daemon option (line 0):
         * that option, "[balancer] kernel_numa_balancing=off", of file (the
         * configuration; NULL for the built-in defaults). */
        char *option;
};

/* A profile setting key other than [sysctl]'s free-form ones: how it is
 * validated and which kernel file it sets (relative to the root prefix;
 * NULL for [disk] keys, which are per device). */
struct setting_key {
        const char *section;
        const char *key;
        const char *path;
        const struct conf_option *check; /* value check: type, range, choices */
};

struct profile {
        char *name;
        char *summary;           /* this profile's own [main] summary=; NULL if none */
        char *file;              /* the NAME.conf that was found */
        struct setting *settings; /* in first-definition order; later definitions win key by key */
        size_t n_settings;
};

/* The keys of the setting sections (src/config/profile-keys.c), {NULL}
 * terminated. */
extern const struct setting_key profile_keys[];
/* A profile's [main] keys (summary, include), {NULL} terminated; with
 * profile_keys[] for the man page check (src/config/profile-keys.c). */
extern const struct conf_option profile_main_options[];

/* Look up a non-sysctl key; NULL if unknown. */
const struct setting_key *profile_key_lookup(const char *section, const char *key);

/* tuned's key names where the meaning is the same: [disk] elevator is
 * scheduler, readahead is read_ahead_kb (its value in KiB, or in 512-byte
 * sectors with an "s" after the number: *ret_value is then the value in
 * KiB, else NULL). Returns the key to use, key itself if not an alias. */
const char *profile_key_alias(const char *section, const char *key, const char *value, char **ret_value);

/* Is the key a list option ([main] include, [disk] devices, ...)? Its
 * continuation lines are joined with commas (src/config/ini.c). */
bool profile_key_is_list(const char *section, const char *key);

/* Is this a valid sysctl key: dot-separated [A-Za-z0-9_-]+ components,
 * no '/', no empty component (so no "..", no leading or trailing dot)? */
bool profile_sysctl_key_valid(const char *key);

/* Is this a valid devices= glob: not empty, no '/', no "..", printable
 * without white space? One leading '!' (negation) is allowed and skipped. */
bool profile_device_glob_valid(const char *glob);

/* Is this a valid profile name: [A-Za-z0-9_.-]+, not starting with '.'
 * (so NAME.conf never leaves its directory)? */
bool profile_name_valid(const char *name);

/* Is section one of the setting sections: sysctl, vm, ksm, disk? */
bool profile_section_is_setting(const char *section);

/* Check one setting of a setting section: the one validator shared by
 * profiles and the config file's local overrides. On error -EINVAL, err
 * says "[section] key: what is wrong (allowed: ...)" (no file/line). */
int profile_check_setting(const char *section, const char *key, const char *value,
                          struct conf_error *err);

/* The default search path: DATADIR/vmtuned/profiles then
 * SYSCONFDIR/vmtuned/profiles (later wins), NULL-terminated; replaced as a
 * whole by --profile-dir. */
extern const char *const profile_default_dirs[];

/* Find NAME.conf in dirs (the last directory holding it wins), resolve
 * include= (any depth; cycles and missing includes are errors), validate every
 * section, key and value. On error returns -EINVAL/-errno with err naming file,
 * line and key, and *ret is untouched. -ENOENT: no profile of that name. */
int profile_load(const char *const *dirs, size_t n_dirs, const char *name,
                 struct profile **ret, struct conf_error *err);

/* Set (or replace) one setting in p (copied): used for the config file's
 * local overrides. A replaced setting keeps its position. */
void profile_set(struct profile *p, const struct setting *s);

/* The names of all profiles found in dirs, sorted, NULL-terminated; free
 * with option_list_free() (option.h). Unreadable directories are skipped. */
char **profile_list(const char *const *dirs, size_t n_dirs);

/* Find a setting; NULL if not set. */
const struct setting *profile_get(const struct profile *p, const char *section, const char *key);

void profile_free(struct profile *p);
void setting_clear(struct setting *s);

/* Where s comes from, for people (malloc'd): "FILE:LINE", or "FILE
 * [balancer] kernel_numa_balancing=off" ("built-in default ..." without a
 * file) for one derived from an option; NULL when it has neither. JSON has
 * the parts apart (json_print_source). */
char *setting_source(const struct setting *s);
