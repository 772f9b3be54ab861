/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Checking a value against one row of an option table (struct conf_option): the
 * daemon options and the profile keys share these checks, so a value means
 * the same and is refused with the same words wherever it is written. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "config/option.h"

#include "config/ini.h"
#include "base/util.h"

static const char *const bool_true[] = { "yes", "true", "on", "1", NULL };
static const char *const bool_false[] = { "no", "false", "off", "0", NULL };

static bool in_list(const char *const *list, const char *s, bool ignore_case)
{
        for (; list && *list; list++)
                if (ignore_case ? strcasecmp(*list, s) == 0 : streq(*list, s))
                        return true;
        return false;
}

int option_parse_bool(const char *s, bool *ret)
{
        if (in_list(bool_true, s, true))
                *ret = true;
        else if (in_list(bool_false, s, true))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

int option_parse_double(const char *s, double *ret)
{
        char *end;
        double v;

        if (!*s)
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (*end != '\0' || end == s || errno == ERANGE || !isfinite(v))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* No control characters (tabs are fine): a value ends up in a kernel file
 * or a log line, where a newline or an escape would change its meaning. */
static bool text_printable(const char *s)
{
        for (; *s; s++)
                if (((unsigned char) *s < 0x20 && *s != '\t') || *s == 0x7f)
                        return false;
        return true;
}

static void join(char *buf, size_t size, const char *const *words)
{
        size_t n = 0;

        buf[0] = '\0';
        for (; words && *words && n < size; words++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", n ? ", " : "", *words);
}

/* "1.0" rather than "1", so a range reads as one of decimals. */
static void format_decimal(char *buf, size_t size, double v)
{
        snprintf(buf, size, "%g", v);
        if (!strpbrk(buf, ".e") && strlen(buf) + 2 < size)
                strcat(buf, ".0");
}

void option_describe_allowed(const struct conf_option *opt, char *buf, size_t size)
{
        const char *rule = opt->item_rule;

        switch (opt->type) {
        case OPT_STRING:
                snprintf(buf, size, "%s%s", rule ? rule : "text",
                         opt->default_value ? "" : ", or empty for none");
                break;
        case OPT_INT:
                snprintf(buf, size, "%ld..%ld%s", opt->min, opt->max,
                         opt->allow_greater ? ", or >N to set only if greater than the current value" : "");
                break;
        case OPT_DOUBLE: {
                char lo[32], hi[32];

                format_decimal(lo, sizeof(lo), opt->dmin);
                format_decimal(hi, sizeof(hi), opt->dmax);
                snprintf(buf, size, "%s..%s", lo, hi);
                break;
        }
        case OPT_BOOL:
                snprintf(buf, size, "yes, no, true, false, on, off, 1, 0");
                break;
        case OPT_ENUM:
        case OPT_LOG_LEVEL:
                join(buf, size, opt->choices);
                break;
        case OPT_GLOB_LIST:
                snprintf(buf, size, "comma separated %s, '!' negates%s", rule ? rule : "globs",
                         opt->min > 0 ? "" : ", or empty for none");
                break;
        case OPT_NAME_LIST:
                snprintf(buf, size, "comma separated %s", rule ? rule : "names");
                break;
        }
}

static int check_fail(const struct conf_option *opt, struct conf_error *err, const char *fmt, ...) _printf_(3, 4);
static int check_fail(const struct conf_option *opt, struct conf_error *err, const char *fmt, ...)
{
        char what[512], allowed[384];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        option_describe_allowed(opt, allowed, sizeof(allowed));
        conf_error_set(err, "[%s] %s: %s (allowed: %s)", opt->section, opt->key, what, allowed);
        return -EINVAL;
}

static bool blank(char c)
{
        return c == ' ' || c == '\t';
}

char **option_split_list(const char *value)
{
        _cleanup_free_ char *copy = xstrdup(value);
        char **items = xcalloc(1, sizeof(char *));
        size_t n = 0;
        char *p = copy, *item;

        while (blank(*p))
                p++;
        if (!*p)
                return items;
        while ((item = strsep(&p, ","))) {
                char *end = item + strlen(item);

                while (blank(*item))
                        item++;
                while (end > item && blank(end[-1]))
                        *--end = '\0';
                items = xreallocarray(items, n + 2, sizeof(char *));
                items[n++] = xstrdup(item);
                items[n] = NULL;
        }
        return items;
}

void option_list_free(char **items)
{
        for (char **i = items; i && *i; i++)
                free(*i);
        free(items);
}

static int check_list(const struct conf_option *opt, const char *value, struct conf_error *err)
{
        char **items = option_split_list(value);
        long n = 0;
        int r = 0;

        for (char **i = items; *i && r == 0; i++, n++) {
                const char *item = *i;

                if (opt->type == OPT_GLOB_LIST && *item == '!')
                        item++;
                if (!*item)
                        r = check_fail(opt, err, "empty item in '%s'", value);
                else if (opt->item_valid && !opt->item_valid(item))
                        r = check_fail(opt, err, "'%s' is not valid", *i);
        }
        if (r == 0 && n < opt->min)
                r = check_fail(opt, err, n ? "too few items" : "empty value");
        option_list_free(items);
        return r;
}

static int check_int(const struct conf_option *opt, const char *value, struct conf_error *err)
{
        const char *digits = value;
        long v;
        int r;

        if (opt->allow_greater && *digits == '>')
                digits++;
        r = parse_long(digits, opt->min, opt->max, &v);
        if (r == -ERANGE)
                return check_fail(opt, err, "%s is out of range", value);
        if (r < 0)
                return check_fail(opt, err, "'%s' is not an integer", value);
        return 0;
}

static int check_double(const struct conf_option *opt, const char *value, struct conf_error *err)
{
        double v;

        if (option_parse_double(value, &v) < 0)
                return check_fail(opt, err, "'%s' is not a number", value);
        if (v < opt->dmin || v > opt->dmax)
                return check_fail(opt, err, "%s is out of range", value);
        return 0;
}

int option_check_value(const struct conf_option *opt, const char *value, struct conf_error *err)
{
        bool b;

        if (!text_printable(value))
                return check_fail(opt, err, "value contains a control character");
        switch (opt->type) {
        case OPT_STRING:
                if (!*value && opt->default_value)
                        return check_fail(opt, err, "empty value");
                if (*value && opt->item_valid && !opt->item_valid(value))
                        return check_fail(opt, err, "'%s' is not valid", value);
                return 0;
        case OPT_INT:
                return check_int(opt, value, err);
        case OPT_DOUBLE:
                return check_double(opt, value, err);
        case OPT_BOOL:
                if (option_parse_bool(value, &b) < 0)
                        return check_fail(opt, err, "'%s' is not a boolean", value);
                return 0;
        case OPT_ENUM:
        case OPT_LOG_LEVEL:
                if (!in_list(opt->choices, value, false))
                        return check_fail(opt, err, "'%s' is not a choice", value);
                return 0;
        case OPT_GLOB_LIST:
        case OPT_NAME_LIST:
                return check_list(opt, value, err);
        }
        return check_fail(opt, err, "unknown option type");
}
