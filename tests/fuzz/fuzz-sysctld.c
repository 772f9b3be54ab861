/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sysctl.d files (src/tuning/verify.c), read the way systemd-sysctl reads
 * them, for `vmtunectl verify`'s "also set at boot by". Every assignment
 * has a key in path form without empty components and a line inside the
 * file; path form is idempotent on names marked as path form; a lookup
 * finds each plain key the file assigns, and never returns more than it
 * was given room for. */
#include "tuning/verify.h"
#include "fuzz.h"

static const char *const known[] = { "vm/swappiness", "net/ipv4/conf/eth0.200/rp_filter", "kernel/sched_autogroup_enabled" };

/* Does a name say it is in path form (first separator a slash, or
 * none)? "/a.b" is the path "a.b", which no longer says so: as in
 * systemd-sysctl, normalizing is idempotent only on names that do. */
static bool path_form_marked(const char *name)
{
        const char *p = strpbrk(name, "/.");

        return !p || *p == '/';
}

static void check_lookup(const struct sysctl_conf *conf, const char *key)
{
        const struct sysctl_assignment *found[2] = { NULL, NULL };
        size_t n = verify_sysctl_lookup(conf, key, found, ARRAY_SIZE(found));

        for (size_t i = 0; i < n && i < ARRAY_SIZE(found); i++)
                FUZZ_CHECK(found[i] >= conf->v && found[i] < conf->v + conf->n && found[i]->value);
        FUZZ_CHECK(n <= conf->n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        struct sysctl_conf conf = { 0 };
        size_t lines = 1, bad;

        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        bad = verify_sysctl_parse(text, "/etc/sysctl.d/fuzz.conf", &conf);
        FUZZ_CHECK(bad + conf.n <= lines);
        for (size_t i = 0; i < conf.n; i++) {
                const struct sysctl_assignment *a = &conf.v[i];
                char *again = verify_sysctl_path_form(a->key);

                FUZZ_CHECK(a->key[0] != '/' && !strstr(a->key, "//") && a->line >= 1 && a->line <= lines);
                FUZZ_CHECK(i == 0 || a->line > conf.v[i - 1].line);
                FUZZ_CHECK(!a->ignore_failure || a->value);
                FUZZ_CHECK(!path_form_marked(a->key) || strcmp(again, a->key) == 0);
                free(again);
                /* The last line naming a plain key decides: an exclusion
                 * hides it, an assignment is found (bounded: quadratic). */
                if (i < 64 && !strpbrk(a->key, "*?[")) {
                        const struct sysctl_assignment *last = a, *first = NULL;
                        size_t n;

                        for (size_t j = i + 1; j < conf.n; j++)
                                if (strcmp(conf.v[j].key, a->key) == 0)
                                        last = &conf.v[j];
                        n = verify_sysctl_lookup(&conf, a->key, &first, 1);
                        FUZZ_CHECK(last->value ? n >= 1 && first && first->value : n == 0);
                }
        }
        for (size_t i = 0; i < ARRAY_SIZE(known); i++)
                check_lookup(&conf, known[i]);
        verify_sysctl_conf_free(&conf);

        /* The whole input as a name. */
        {
                char *once = verify_sysctl_path_form(text), *twice = verify_sysctl_path_form(once);

                FUZZ_CHECK(!path_form_marked(once) || strcmp(once, twice) == 0);
                free(once);
                free(twice);
        }
        free(text);
        return 0;
}
