/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Loading profiles: find NAME.conf on the search path, parse it (syntax in
 * src/config/ini.c), resolve include= depth first, validate every key
 * (src/config/profile-keys.c), and merge key by key, later definitions winning. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config/profile.h"

#include "config/ini.h"
#include "config/option.h"
#include "base/util.h"

const char *const profile_default_dirs[] = {
        DATADIR "/vmtuned/profiles",
        SYSCONFDIR "/vmtuned/profiles",
        NULL,
};

#define NAME_RULE "letters, digits, '_', '.' and '-', not starting with '.'"

void setting_clear(struct setting *s)
{
        free(s->section);
        free(s->key);
        free(s->value);
        free(s->file);
        free(s->option);
        *s = (struct setting){};
}

char *setting_source(const struct setting *s)
{
        if (s->option)
                return xasprintf("%s %s", s->file ? s->file : "built-in default", s->option);
        if (!s->file)
                return NULL;
        return s->line ? xasprintf("%s:%u", s->file, s->line) : xstrdup(s->file);
}

void profile_free(struct profile *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_settings; i++)
                setting_clear(&p->settings[i]);
        free(p->settings);
        free(p->name);
        free(p->summary);
        free(p->file);
        free(p);
}

const struct setting *profile_get(const struct profile *p, const char *section, const char *key)
{
        for (size_t i = 0; i < p->n_settings; i++)
                if (streq(p->settings[i].section, section) && streq(p->settings[i].key, key))
                        return &p->settings[i];
        return NULL;
}

void profile_set(struct profile *p, const struct setting *s)
{
        struct setting *t = (struct setting *) profile_get(p, s->section, s->key);

        if (t) {
                free(t->value);
                free(t->file);
                free(t->option);
        } else {
                p->settings = xreallocarray(p->settings, p->n_settings + 1, sizeof(*p->settings));
                t = &p->settings[p->n_settings++];
                t->section = xstrdup(s->section);
                t->key = xstrdup(s->key);
        }
        t->value = xstrdup(s->value);
        t->file = s->file ? xstrdup(s->file) : NULL;
        t->line = s->line;
        t->option = s->option ? xstrdup(s->option) : NULL;
}

/* One file as written, before its includes are resolved. */
struct parsed {
        const char *file;
        char *summary;
        char **includes;          /* from the last include= */
        unsigned include_line;
        struct profile own;       /* its own settings; a repeated key: last wins */
};

static void parsed_clear(struct parsed *ps)
{
        free(ps->summary);
        option_list_free(ps->includes);
        for (size_t i = 0; i < ps->own.n_settings; i++)
                setting_clear(&ps->own.settings[i]);
        free(ps->own.settings);
        *ps = (struct parsed){};
}

static int on_section(void *userdata, const char *section, struct conf_error *err)
{
        if (streq(section, "main") || profile_section_is_setting(section))
                return 0;
        conf_error_set(err, "[%s]: unknown section (allowed: main, sysctl, vm, ksm, disk, cpu, hugepages)", section);
        return -EINVAL;
}

static int main_entry(struct parsed *ps, const char *key, const char *value, unsigned line,
                      struct conf_error *err)
{
        const struct conf_option *opt;
        int r;

        for (opt = profile_main_options; opt->key; opt++)
                if (streq(opt->key, key))
                        break;
        if (!opt->key) {
                conf_error_set(err, "[main] %s: unknown key (allowed: summary, include)", key);
                return -EINVAL;
        }
        r = option_check_value(opt, value, err);
        if (r < 0)
                return r;
        if (streq(key, "summary")) {
                free(ps->summary);
                ps->summary = xstrdup(value);
        } else {
                option_list_free(ps->includes);
                ps->includes = option_split_list(value);
                ps->include_line = line;
        }
        return 0;
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value,
                    unsigned line, struct conf_error *err)
{
        struct parsed *ps = userdata;
        _cleanup_free_ char *converted = NULL;
        int r;

        if (streq(section, "main"))
                return main_entry(ps, key, value, line, err);
        key = profile_key_alias(section, key, value, &converted);
        if (converted)
                value = converted;
        r = profile_check_setting(section, key, value, err);
        if (r < 0)
                return r;
        profile_set(&ps->own, &(const struct setting){
                .section = (char *) section, .key = (char *) key, .value = (char *) value,
                .file = (char *) ps->file, .line = line,
        });
        return 0;
}

static bool on_is_list(void *userdata, const char *section, const char *key)
{
        return profile_key_is_list(section, key);
}

struct search {
        const char *const *dirs;
        size_t n_dirs;
};

/* The profiles being loaded, innermost last, to tell an include cycle. */
struct chain {
        const char *name;
        const struct chain *up;
};

static bool chain_contains(const struct chain *c, const char *name)
{
        for (; c; c = c->up)
                if (streq(c->name, name))
                        return true;
        return false;
}

/* "a -> b -> c": outermost first. */
static size_t chain_format(const struct chain *c, char *buf, size_t size)
{
        size_t n = c->up ? chain_format(c->up, buf, size) : 0;

        if (n < size)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", n ? " -> " : "", c->name);
        return n;
}

static void search_format(const struct search *s, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < s->n_dirs && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? ", " : "", s->dirs[i]);
}

/* Read NAME.conf from the last directory that has it. -ENOENT if none. */
static int read_profile(const struct search *s, const char *name, char **ret_path, char **ret_text,
                        struct conf_error *err)
{
        for (size_t i = s->n_dirs; i-- > 0;) {
                _cleanup_free_ char *path = xasprintf("%s/%s.conf", s->dirs[i], name);
                int r = conf_read_file(path, ret_text, err);

                if (r == -ENOENT || r == -ENOTDIR)
                        continue;
                if (r < 0)
                        return r;
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        return -ENOENT;
}

static int not_found(const struct search *s, const char *name, const char *from_file, unsigned from_line,
                     struct conf_error *err)
{
        char searched[512];

        search_format(s, searched, sizeof(searched));
        if (!from_file) {
                conf_error_set(err, "profile '%s' not found (searched: %s)", name, searched);
                return -ENOENT;
        }
        conf_error_set(err, "[main] include: profile '%s' not found (searched: %s)", name, searched);
        conf_error_prefix(err, from_file, from_line);
        return -EINVAL;
}

static int resolve(const struct search *s, const char *name, const struct chain *up,
                   const char *from_file, unsigned from_line, struct profile *acc,
                   char **ret_file, char **ret_summary, struct conf_error *err);

static int resolve_file(const struct search *s, const struct chain *me, const char *path,
                        const char *text, struct profile *acc, char **ret_summary,
                        struct conf_error *err)
{
        struct parsed ps = { .file = path };
        const struct conf_parser parser = {
                .file = path, .userdata = &ps, .section = on_section, .entry = on_entry,
                .is_list = on_is_list,
        };
        int r;

        r = conf_parse_text(text, &parser, err);
        for (char **inc = ps.includes; r == 0 && inc && *inc; inc++)
                r = resolve(s, *inc, me, path, ps.include_line, acc, NULL, NULL, err);
        if (r == 0) {
                for (size_t i = 0; i < ps.own.n_settings; i++)
                        profile_set(acc, &ps.own.settings[i]);
                if (ret_summary)
                        *ret_summary = TAKE_PTR(ps.summary);
        }
        parsed_clear(&ps);
        return r;
}

/* Load name (included from from_file:from_line, or the top profile if
 * from_file is NULL): its includes first, in order, then its own settings
 * on top of them, into acc. */
static int resolve(const struct search *s, const char *name, const struct chain *up,
                   const char *from_file, unsigned from_line, struct profile *acc,
                   char **ret_file, char **ret_summary, struct conf_error *err)
{
        const struct chain me = { .name = name, .up = up };
        _cleanup_free_ char *path = NULL, *text = NULL;
        char cycle[512];
        int r;

        if (chain_contains(up, name)) {
                chain_format(&me, cycle, sizeof(cycle));
                conf_error_set(err, "[main] include: include cycle: %s", cycle);
                conf_error_prefix(err, from_file, from_line);
                return -EINVAL;
        }
        r = read_profile(s, name, &path, &text, err);
        if (r == -ENOENT)
                return not_found(s, name, from_file, from_line, err);
        if (r < 0)
                return r;
        r = resolve_file(s, &me, path, text, acc, ret_summary, err);
        if (r < 0)
                return r;
        if (ret_file)
                *ret_file = TAKE_PTR(path);
        return 0;
}

int profile_load(const char *const *dirs, size_t n_dirs, const char *name,
                 struct profile **ret, struct conf_error *err)
{
        const struct search s = { .dirs = dirs, .n_dirs = n_dirs };
        struct profile *p;
        char *file = NULL, *summary = NULL;
        int r;

        if (!profile_name_valid(name)) {
                conf_error_set(err, "'%s' is not a valid profile name (allowed: " NAME_RULE ")", name);
                return -EINVAL;
        }
        p = xcalloc(1, sizeof(*p));
        r = resolve(&s, name, NULL, NULL, 0, p, &file, &summary, err);
        if (r < 0) {
                profile_free(p);
                free(summary);
                return r;
        }
        p->name = xstrdup(name);
        p->file = file;
        p->summary = summary;
        *ret = p;
        return 0;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Add the profiles of one directory; a missing or unreadable one adds none. */
static void list_dir(const char *dir, char ***names, size_t *n)
{
        DIR *d = opendir(dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                size_t len = strlen(de->d_name);
                _cleanup_free_ char *stem = NULL;
                struct stat st;

                if (len <= 5 || !streq(de->d_name + len - 5, ".conf"))
                        continue;
                stem = strndup(de->d_name, len - 5);
                if (!stem || !profile_name_valid(stem) ||
                    fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
                        continue;
                *names = xreallocarray(*names, *n + 2, sizeof(char *));
                (*names)[(*n)++] = TAKE_PTR(stem);
                (*names)[*n] = NULL;
        }
        closedir(d);
}

char **profile_list(const char *const *dirs, size_t n_dirs)
{
        char **names = xcalloc(1, sizeof(char *));
        size_t n = 0, kept = 0;

        for (size_t i = 0; i < n_dirs; i++)
                list_dir(dirs[i], &names, &n);
        qsort(names, n, sizeof(char *), cmp_names);
        /* A profile in several directories is listed once. */
        for (size_t i = 0; i < n; i++) {
                if (kept > 0 && streq(names[kept - 1], names[i]))
                        free(names[i]);
                else
                        names[kept++] = names[i];
        }
        names[kept] = NULL;
        return names;
}
