/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The option validators (src/config/option.c, profile-keys.c): every
 * value of vmtuned.conf and of a profile passes one of them before it
 * reaches the daemon or a kernel file. The first input byte picks a row
 * of the option tables, the rest is the value. What a row accepts must
 * parse as its type says (the loaders store it without checking again),
 * and the name checks must keep what they promise: a valid sysctl key
 * makes a path under proc/sys, a profile name stays in its directory, a
 * device glob names no path. */
#include <errno.h>

#include "base/kfile.h"
#include "config/conf.h"
#include "config/ini.h"
#include "config/option.h"
#include "config/profile.h"
#include "fuzz.h"

static const struct conf_option *pick_row(uint8_t selector)
{
        size_t n_conf = 0, n_main = 0, n_keys = 0, i;

        while (conf_options[n_conf].key)
                n_conf++;
        while (profile_main_options[n_main].key)
                n_main++;
        while (profile_keys[n_keys].section)
                n_keys++;
        i = selector % (n_conf + n_main + n_keys);
        if (i < n_conf)
                return &conf_options[i];
        i -= n_conf;
        if (i < n_main)
                return &profile_main_options[i];
        return profile_keys[i - n_main].check;
}

static bool in_choices(const char *const *choices, const char *s)
{
        for (; choices && *choices; choices++)
                if (strcmp(*choices, s) == 0)
                        return true;
        return false;
}

static void check_accepted(const struct conf_option *opt, const char *value)
{
        const char *digits = value;
        char **items;
        long l, n = 0;
        double d;
        bool b;

        for (const char *c = value; *c; c++)
                FUZZ_CHECK((unsigned char) *c >= 0x20 ? *c != 0x7f : *c == '\t');
        switch (opt->type) {
        case OPT_STRING:
                FUZZ_CHECK(!*value || !opt->item_valid || opt->item_valid(value));
                break;
        case OPT_INT:
                if (opt->allow_greater && *digits == '>')
                        digits++;
                FUZZ_CHECK(parse_long(digits, opt->min, opt->max, &l) == 0 && l >= opt->min && l <= opt->max);
                break;
        case OPT_DOUBLE:
                FUZZ_CHECK(option_parse_double(value, &d) == 0 && d >= opt->dmin && d <= opt->dmax);
                break;
        case OPT_BOOL:
                FUZZ_CHECK(option_parse_bool(value, &b) == 0);
                break;
        case OPT_ENUM:
        case OPT_LOG_LEVEL:
                FUZZ_CHECK(in_choices(opt->choices, value));
                break;
        case OPT_GLOB_LIST:
        case OPT_NAME_LIST:
                items = option_split_list(value);
                for (char **i = items; *i; i++, n++) {
                        const char *item = *i;

                        if (opt->type == OPT_GLOB_LIST && *item == '!')
                                item++;
                        FUZZ_CHECK(*item && (!opt->item_valid || opt->item_valid(item)));
                }
                FUZZ_CHECK(n >= opt->min);
                option_list_free(items);
                break;
        }
}

/* "proc/sys/" + the key with dots as slashes, as the settings engine
 * makes it. */
static void check_sysctl_key(const char *key)
{
        char *path;

        if (!profile_sysctl_key_valid(key))
                return;
        path = xasprintf("proc/sys/%s", key);
        for (char *p = path; *p; p++)
                if (*p == '.')
                        *p = '/';
        FUZZ_CHECK(kfile_path_valid(path));
        free(path);
}

static void check_names(const char *s)
{
        char **items = option_split_list(s);
        size_t n = 0;

        check_sysctl_key(s);
        if (profile_name_valid(s)) {
                char *file = xasprintf("%s.conf", s);

                FUZZ_CHECK(s[0] != '.' && !strchr(s, '/') && kfile_path_valid(file));
                free(file);
        }
        if (profile_device_glob_valid(s)) {
                const char *g = s[0] == '!' ? s + 1 : s;

                FUZZ_CHECK(*g && !strchr(g, '/') && !strstr(g, "..") && !strchr(g, ','));
        }
        for (char **i = items; *i; i++, n++) {
                size_t len = strlen(*i);

                FUZZ_CHECK(!strchr(*i, ','));
                FUZZ_CHECK(len == 0 || (**i != ' ' && **i != '\t' && (*i)[len - 1] != ' ' && (*i)[len - 1] != '\t'));
        }
        option_list_free(items);
}

/* "section\nkey\nvalue": the one validator of setting sections. */
static void check_setting(char *s)
{
        char *key = strchr(s, '\n'), *value;
        struct conf_error err = { "" };
        int r;

        if (!key)
                return;
        *key++ = '\0';
        value = strchr(key, '\n');
        if (!value)
                return;
        *value++ = '\0';
        r = profile_check_setting(s, key, value, &err);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && err.message[0]));
        if (r < 0)
                return;
        FUZZ_CHECK(profile_section_is_setting(s));
        if (strcmp(s, "sysctl") == 0)
                FUZZ_CHECK(profile_sysctl_key_valid(key));
        else
                FUZZ_CHECK(profile_key_lookup(s, key));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const struct conf_option *opt;
        struct conf_error err = { "" };
        char *value, allowed[384];
        int r;

        if (size == 0)
                return 0;
        opt = pick_row(data[0]);
        value = fuzz_text(data + 1, size - 1);

        r = option_check_value(opt, value, &err);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && err.message[0]));
        if (r == 0)
                check_accepted(opt, value);
        for (size_t len = 1; len <= sizeof(allowed); len += len < 16 ? 1 : 97) {
                option_describe_allowed(opt, allowed, len);
                FUZZ_CHECK(strlen(allowed) < len);
        }
        check_names(value);
        check_setting(value);
        free(value);
        return 0;
}
