/* SPDX-License-Identifier: GPL-2.0-or-later */
/* INI text (src/config/ini.c) and the two loaders on it: the daemon's
 * configuration (conf_load) and profiles with their include= chains
 * (profile_load), both with every validator of keys and values.
 *
 * The reader hands inih one normalized line at a time and counts lines
 * itself; the properties check that the two agree: every entry inih
 * reports is in the section our reader last saw, its line numbers grow,
 * and what was read, written back as "key=value" lines, reads the same.
 * What the loaders accept passes the validators again, one setting at a
 * time, and what they refuse comes with a message. */
#include <fcntl.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/conf.h"
#include "config/ini.h"
#include "config/option.h"
#include "config/profile.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);

struct entry {
        char *section, *key, *value;
};

struct collect {
        struct entry *v;
        size_t n;
        char *section;         /* as our reader saw it */
        unsigned line;         /* of the last entry */
};

static int collect_section(void *userdata, const char *section, struct conf_error *err)
{
        struct collect *c = userdata;

        FUZZ_CHECK(*section);
        free(c->section);
        c->section = xstrdup(section);
        return 0;
}

static int collect_entry(void *userdata, const char *section, const char *key, const char *value,
                         unsigned line, struct conf_error *err)
{
        struct collect *c = userdata;

        FUZZ_CHECK(c->section && strcmp(c->section, section) == 0);
        FUZZ_CHECK(*key && line > c->line);
        c->line = line;
        c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
        c->v[c->n++] = (struct entry){ xstrdup(section), xstrdup(key), xstrdup(value) };
        return 0;
}

static void collect_done(struct collect *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].section);
                free(c->v[i].key);
                free(c->v[i].value);
        }
        free(c->v);
        free(c->section);
}

static void check_reader(const char *text)
{
        struct collect first = { 0 }, second = { 0 };
        const struct conf_parser p1 = { .file = "fuzz.conf", .userdata = &first, .section = collect_section,
                                        .entry = collect_entry };
        const struct conf_parser p2 = { .file = "again.conf", .userdata = &second, .section = collect_section,
                                        .entry = collect_entry };
        struct conf_error err = { "" };
        char *again = NULL;
        size_t size = 0, lines = 1;
        FILE *f;
        int r;

        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        r = conf_parse_text(text, &p1, &err);
        FUZZ_CHECK(r == 0 || (r == -EINVAL && err.message[0]));
        FUZZ_CHECK(first.line <= lines);
        if (r == 0) {
                f = open_memstream(&again, &size);
                FUZZ_CHECK(f);
                /* A header for each entry: a key may be given again in a
                 * later section, not twice in one. */
                for (size_t i = 0; i < first.n; i++)
                        fprintf(f, "[%s]\n%s=%s\n", first.v[i].section, first.v[i].key, first.v[i].value);
                FUZZ_CHECK(fclose(f) == 0);
                FUZZ_CHECK(conf_parse_text(again, &p2, &err) == 0);
                FUZZ_CHECK(second.n == first.n);
                for (size_t i = 0; i < first.n; i++)
                        FUZZ_CHECK(strcmp(first.v[i].section, second.v[i].section) == 0 &&
                                   strcmp(first.v[i].key, second.v[i].key) == 0 &&
                                   strcmp(first.v[i].value, second.v[i].value) == 0);
                free(again);
        }
        collect_done(&first);
        collect_done(&second);
}

/* The daemon's configuration, read from a memfd through its /proc path
 * like any file; profiles from a directory that holds the input as
 * fuzz.conf next to copies of the shipped profiles, so include= reaches
 * real ones. */
static int conf_fd = -1;
static char conf_path[64];
static char profile_dir[] = "/tmp/vmtuned-fuzz-ini-XXXXXX";

static void remove_profile_dir(void)
{
        DIR *d = opendir(profile_dir);
        struct dirent *de;

        while (d && (de = readdir(d)))
                if (de->d_name[0] != '.')
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        if (d)
                closedir(d);
        (void) rmdir(profile_dir);
}

static void write_file(int fd, const uint8_t *data, size_t size)
{
        FUZZ_CHECK(ftruncate(fd, 0) == 0);
        FUZZ_CHECK(pwrite(fd, data, size, 0) == (ssize_t) size);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        const char *src = getenv("VMTUNED_SRCDIR");
        char *shipped = xasprintf("%s/profiles", src ? src : ".");
        DIR *d = opendir(shipped);
        struct dirent *de;

        conf_fd = memfd_create("fuzz.conf", MFD_CLOEXEC);
        FUZZ_CHECK(conf_fd >= 0);
        snprintf(conf_path, sizeof(conf_path), "/proc/self/fd/%d", conf_fd);
        FUZZ_CHECK(mkdtemp(profile_dir));
        atexit(remove_profile_dir);
        while (d && (de = readdir(d))) {
                char *from, *to, *text;

                if (!strstr(de->d_name, ".conf"))
                        continue;
                from = xasprintf("%s/%s", shipped, de->d_name);
                to = xasprintf("%s/%s", profile_dir, de->d_name);
                if (conf_read_file(from, &text, NULL) == 0) {
                        int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

                        FUZZ_CHECK(fd >= 0);
                        write_file(fd, (const uint8_t *) text, strlen(text));
                        close(fd);
                        free(text);
                }
                free(from);
                free(to);
        }
        if (d)
                closedir(d);
        free(shipped);
        return 0;
}

static void check_conf(const uint8_t *data, size_t size)
{
        struct vmtuned_conf *conf = NULL;
        struct conf_error err = { "" };
        int r;

        write_file(conf_fd, data, size);
        r = conf_load(conf_path, true, &conf, &err);
        if (r < 0) {
                FUZZ_CHECK(!conf && err.message[0]);
                return;
        }
        FUZZ_CHECK(conf && conf->profile && profile_name_valid(conf->profile) && conf->exclude);
        for (size_t i = 0; i < conf->n_overrides; i++) {
                const struct setting *s = &conf->overrides[i];

                FUZZ_CHECK(profile_check_setting(s->section, s->key, s->value, NULL) == 0);
        }
        conf_free(conf);
}

static void check_profile(const uint8_t *data, size_t size)
{
        const char *dirs[] = { profile_dir };
        char *path = xasprintf("%s/fuzz.conf", profile_dir);
        struct profile *p = NULL;
        struct conf_error err = { "" };
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int r;

        FUZZ_CHECK(fd >= 0);
        write_file(fd, data, size);
        close(fd);
        r = profile_load(dirs, 1, "fuzz", &p, &err);
        if (r < 0) {
                FUZZ_CHECK(!p && err.message[0]);
        } else {
                FUZZ_CHECK(p && strcmp(p->name, "fuzz") == 0);
                for (size_t i = 0; i < p->n_settings; i++) {
                        const struct setting *s = &p->settings[i];

                        FUZZ_CHECK(profile_check_setting(s->section, s->key, s->value, NULL) == 0);
                        FUZZ_CHECK(profile_get(p, s->section, s->key) == s);
                }
                profile_free(p);
        }
        free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);

        check_reader(text);
        free(text);
        check_conf(data, size);
        check_profile(data, size);
        return 0;
}
