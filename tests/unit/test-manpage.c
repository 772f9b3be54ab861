/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The man pages name every option the code knows, in the right section, so
 * the option tables and the documentation cannot drift apart; and
 * vmtuned-profiles(7) lists every value of every shipped profile, with its
 * source, and no value a profile does not set. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/conf.h"
#include "config/ini.h"
#include "testlib.h"

/* The text of one ".SS [section]" subsection of a man page (malloc'd). */
static char *subsection(const char *page, const char *section)
{
        char heading[96], *start, *end;

        snprintf(heading, sizeof(heading), "\n.SS [%s]\n", section);
        start = strstr(page, heading);
        if (!start)
                return NULL;
        start += strlen(heading);
        end = strstr(start, "\n.S");
        return strndup(start, end ? (size_t) (end - start) : strlen(start));
}

static void test_every_option_and_profile_key_is_in_its_man_page_section(void **state)
{
        char *conf_page = tl_read(tl_srcdir(), "man/vmtuned.conf.5");
        char *profiles_page = tl_read(tl_srcdir(), "man/vmtuned-profiles.7");
        char *list = NULL, *line, *save = NULL;
        size_t size = 0, checked = 0;
        FILE *f = open_memstream(&list, &size);

        assert_non_null(conf_page);
        assert_non_null(profiles_page);
        conf_list_options(f);
        fclose(f);
        for (line = strtok_r(list, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char section[64], key[128], want[160];
                char *text;

                assert_int_equal(sscanf(line, "%63s %127s", section, key), 2);
                snprintf(want, sizeof(want), ".B %s=", key);
                if (strcmp(section, "main") == 0) {
                        snprintf(want, sizeof(want), "%s=", key);
                        if (!strstr(profiles_page, want))
                                fail_msg("vmtuned-profiles(7) does not document [main] %s=", key);
                } else {
                        text = subsection(conf_page, section);
                        if (!text || !strstr(text, want))
                                fail_msg("vmtuned.conf(5) has no \"%s\" under .SS [%s]", want, section);
                        free(text);
                }
                checked++;
        }
        assert_true(checked > 30);
        free(list);
        free(conf_page);
        free(profiles_page);
}

/* A profile's own values as vmtuned-profiles(7) writes them: "key=value"
 * for [sysctl], "[section] key=value" for the others; [main] is not a value. */
struct own_values {
        char *v[64];
        size_t n;
};

static int collect_value(void *userdata, const char *section, const char *key, const char *value, unsigned line,
                         struct conf_error *err)
{
        struct own_values *o = userdata;

        (void) line;
        (void) err;
        if (strcmp(section, "main") == 0)
                return 0;
        assert_true(o->n < sizeof(o->v) / sizeof(o->v[0]));
        if (strcmp(section, "sysctl") == 0)
                assert_true(asprintf(&o->v[o->n], "%s=%s", key, value) > 0);
        else
                assert_true(asprintf(&o->v[o->n], "[%s] %s=%s", section, key, value) > 0);
        o->n++;
        return 0;
}

/* The page with roff's "\-" turned into "-" (malloc'd). */
static char *unescaped(const char *page)
{
        char *out = malloc(strlen(page) + 1), *d = out;

        assert_non_null(out);
        for (const char *s = page; *s; s++) {
                if (s[0] == '\\' && s[1] == '-')
                        s++;
                *d++ = *s;
        }
        *d = '\0';
        return out;
}

/* Where a value's entry says where it comes from: a guide, tuned, or
 * vmtuned's own choice. */
static bool cites_source(const char *text)
{
        static const char *const sources[] = { "tuned's", "Red Hat", "Canonical", "IBM", "SUSE",
                                               "vmtuned's choice" };

        for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
                if (strstr(text, sources[i]))
                        return true;
        return false;
}

static void check_profile_page(const char *page, const char *name, const struct own_values *o)
{
        char heading[300], *section, *end, *p;

        snprintf(heading, sizeof(heading), "\n.SS %s\n", name);
        section = strstr(page, heading);
        if (!section)
                fail_msg("vmtuned-profiles(7) has no \".SS %s\" for profiles/%s.conf", name, name);
        section += strlen(heading);
        end = strstr(section, "\n.S");
        section = strndup(section, end ? (size_t) (end - section) : strlen(section));
        assert_non_null(section);
        /* Every value of the profile: a ".TP" entry naming it, whose text cites a source. */
        for (size_t i = 0; i < o->n; i++) {
                char want[512], *entry, *next;

                snprintf(want, sizeof(want), "\n.TP\n.B %s\n", o->v[i]);
                entry = strstr(section, want);
                if (!entry)
                        fail_msg("vmtuned-profiles(7), .SS %s: no entry \".B %s\"", name, o->v[i]);
                entry += strlen(want);
                next = strstr(entry, "\n.TP\n");
                if (!next || (strstr(entry, "\n.PP\n") && strstr(entry, "\n.PP\n") < next))
                        next = strstr(entry, "\n.PP\n");
                entry = strndup(entry, next ? (size_t) (next - entry) : strlen(entry));
                if (!cites_source(entry))
                        fail_msg("vmtuned-profiles(7), .SS %s: \"%s\" names no source (a guide, tuned's, or "
                                 "vmtuned's choice)", name, o->v[i]);
                free(entry);
        }
        /* And no entry for a value the profile does not set: ".TP" entries with a "=". */
        for (p = strstr(section, "\n.TP\n.B "); p; p = strstr(p + 1, "\n.TP\n.B ")) {
                const char *v = p + strlen("\n.TP\n.B ");
                size_t len = strcspn(v, "\n");
                bool known = false;

                if (!memchr(v, '=', len))
                        continue;
                for (size_t i = 0; i < o->n; i++)
                        known = known || (strlen(o->v[i]) == len && strncmp(o->v[i], v, len) == 0);
                if (!known)
                        fail_msg("vmtuned-profiles(7), .SS %s: \"%.*s\" is not in profiles/%s.conf", name, (int) len,
                                 v, name);
        }
        free(section);
}

static void test_every_shipped_profile_value_is_in_vmtuned_profiles_7(void **state)
{
        char *raw = tl_read(tl_srcdir(), "man/vmtuned-profiles.7"), *page, dir[512];
        struct dirent *de;
        size_t profiles = 0, values = 0;
        DIR *d;

        (void) state;
        assert_non_null(raw);
        page = unescaped(raw);
        snprintf(dir, sizeof(dir), "%s/profiles", tl_srcdir());
        d = opendir(dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                struct own_values o = {};
                struct conf_parser parser = { .file = de->d_name, .userdata = &o, .entry = collect_value };
                struct conf_error err = {};
                char rel[300], name[256], *text;

                if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
                        continue;
                snprintf(rel, sizeof(rel), "profiles/%s", de->d_name);
                snprintf(name, sizeof(name), "%.*s", (int) (len - 5), de->d_name);
                text = tl_read(tl_srcdir(), rel);
                assert_non_null(text);
                if (conf_parse_text(text, &parser, &err) < 0)
                        fail_msg("%s: %s", rel, err.message);
                check_profile_page(page, name, &o);
                values += o.n;
                for (size_t i = 0; i < o.n; i++)
                        free(o.v[i]);
                free(text);
                profiles++;
        }
        closedir(d);
        assert_int_equal(profiles, 4);
        assert_true(values > 20);
        free(page);
        free(raw);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_option_and_profile_key_is_in_its_man_page_section),
                cmocka_unit_test(test_every_shipped_profile_value_is_in_vmtuned_profiles_7),
        };
        return cmocka_run_group_tests_name("man pages", tests, NULL, NULL);
}
