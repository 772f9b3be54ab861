/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Option tables and the checks of their values (src/config/option.c): the
 * daemon options (conf.h) and the profile keys (profile.h) are rows of the
 * same kind, so a value means the same and is refused with the same words
 * wherever it is written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct conf_error;

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
