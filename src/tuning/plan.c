/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning: a resolved profile to the targets of this host
 * (include/tuning/plan.h). Reads only what sys/block offers. */
#include "tuning/plan.h"
#include "plan-internal.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "base/kfile.h"
#include "base/log.h"
#include "config/profile.h"
#include "tuning/ksm.h"
#include "base/util.h"

/* The per-device [disk] knobs, in the order they are applied: the
 * scheduler first, since switching it resets nr_requests. */
static const struct {
        const char *key;
        const char *file; /* under sys/block/DEV/ */
} disk_knobs[] = {
        { "scheduler", "queue/scheduler" },
        { "read_ahead_kb", "queue/read_ahead_kb" },
        { "nr_requests", "queue/nr_requests" },
};


void plan_target_add(struct target_list *l, char *key, char *path, const char *value,
                       const struct setting *s, bool only_if_greater, bool selector)
{
        l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
        l->v[l->n++] = (struct target){
                .key = key,
                .path = path,
                .value = xstrdup(value),
                /* line 0: a setting the daemon derived from an option, not a profile line */
                .source = setting_source(s),
                .source_file = s->file ? xstrdup(s->file) : NULL,
                .source_line = s->line,
                .only_if_greater = only_if_greater,
                .selector = selector,
        };
}

/* Files that show their choices with the current one in brackets. */
static bool path_is_selector(const char *path)
{
        static const char *const thp_files[] = {
                "sys/kernel/mm/transparent_hugepage/enabled",
                "sys/kernel/mm/transparent_hugepage/defrag",
                "sys/kernel/mm/transparent_hugepage/shmem_enabled",
        };
        size_t len = strlen(path);

        for (size_t i = 0; i < ARRAY_SIZE(thp_files); i++)
                if (streq(path, thp_files[i]))
                        return true;
        return len >= strlen("/queue/scheduler") && streq(path + len - strlen("/queue/scheduler"),
                                                           "/queue/scheduler");
}

/* --- planning: [sysctl], [vm], [ksm] ------------------------------------- */

static char *sysctl_path(const char *key)
{
        char *path = xasprintf("proc/sys/%s", key);

        for (char *p = path + strlen("proc/sys/"); *p; p++)
                if (*p == '.')
                        *p = '/';
        return path;
}

void plan_note_add(struct target_list *l, const char *key, const char *fmt, ...)
{
        va_list ap;
        char *text;

        va_start(ap, fmt);
        text = xvasprintf(fmt, ap);
        va_end(ap);
        l->notes = xreallocarray(l->notes, l->n_notes + 1, sizeof(*l->notes));
        l->notes[l->n_notes++] = (struct plan_note){ .key = key ? xstrdup(key) : NULL, .text = text };
}

void settings_log_notes(const struct target_list *l)
{
        for (size_t i = 0; i < l->n_notes; i++)
                if (l->notes[i].key)
                        log_event(LOG_WARNING, MSGID_SETTING_ABSENT, LOG_FIELDS({ "VMTUNED_KEY", l->notes[i].key }),
                                  "%s", l->notes[i].text);
                else
                        log_event(LOG_WARNING, MSGID_SETTING_ABSENT, NULL, "%s", l->notes[i].text);
}

static void plan_setting(const struct setting *s, struct target_list *l)
{
        _cleanup_free_ char *path = NULL, *value = NULL;
        bool greater, selector;

        if (streq(s->section, "sysctl")) {
                path = sysctl_path(s->key);
        } else {
                const struct setting_key *k = profile_key_lookup(s->section, s->key);

                /* [ksm] mode=, ksm_interval=, ...: options of vmtuned's
                 * KSM module (ksm.h), not kernel files. */
                if (k && !k->path && streq(s->section, "ksm"))
                        return;
                /* [cpu] keys without a kernel file reach every CPU (plan-cpu.c). */
                if (k && !k->path && streq(s->section, "cpu"))
                        return;
                if (!k || !k->path) {
                        plan_note_add(l, NULL, "%s:%u: [%s] %s is not a known setting, ignoring",
                                 s->file ? s->file : "?", s->line, s->section, s->key);
                        return;
                }
                path = xstrdup(k->path);
        }
        if (!kfile_path_valid(path) || target_value_parse(s->value, &value, &greater) < 0) {
                plan_note_add(l, NULL, "%s:%u: [%s] %s=%s is not a valid setting, ignoring",
                         s->file ? s->file : "?", s->line, s->section, s->key, s->value);
                return;
        }
        selector = path_is_selector(path);
        plan_target_add(l, xasprintf("%s %s", s->section, s->key), TAKE_PTR(path), value, s,
                   greater, selector);
}

/* --- planning: [disk] ---------------------------------------------------- */

static bool is_space_or(char c, const char *extra)
{
        return isspace((unsigned char) c) || strchr(extra, c);
}

/* Split on separators (and white space), dropping empty items. */
char **plan_split(const char *s, const char *separators, size_t *ret_n)
{
        char **items = NULL;
        size_t n = 0;

        for (;;) {
                size_t len;

                while (*s && is_space_or(*s, separators))
                        s++;
                if (!*s)
                        break;
                for (len = 0; s[len] && !is_space_or(s[len], separators); len++)
                        ;
                items = xreallocarray(items, n + 1, sizeof(*items));
                items[n++] = xasprintf("%.*s", (int) len, s);
                s += len;
        }
        *ret_n = n;
        return items;
}

void plan_strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int cmp_long(const void *a, const void *b)
{
        long x = *(const long *) a, y = *(const long *) b;

        return (x > y) - (x < y);
}

int plan_list_numbered(const struct kroot *root, const char *dir, const char *prefix, long **ret, size_t *ret_n)
{
        long *v = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int r;

        *ret = NULL;
        *ret_n = 0;
        r = kfile_opendir(root, dir, &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                long num;

                if (!startswith(de->d_name, prefix) || parse_long(de->d_name + strlen(prefix), 0, INT_MAX, &num) < 0)
                        continue;
                v = xreallocarray(v, n + 1, sizeof(*v));
                v[n++] = num;
        }
        closedir(d);
        if (n > 0)
                qsort(v, n, sizeof(*v), cmp_long);
        *ret = v;
        *ret_n = n;
        return 0;
}

static const char *device_class(const char *dev)
{
        static const char *const classes[] = { "loop", "ram", "zram" };

        for (size_t i = 0; i < ARRAY_SIZE(classes); i++)
                if (startswith(dev, classes[i]))
                        return classes[i];
        return NULL;
}

bool settings_device_matches(const char *const *globs, size_t n_globs, const char *dev)
{
        const char *class = device_class(dev);
        bool any_positive = false, matched = false;

        for (size_t i = 0; i < n_globs; i++) {
                const char *g = globs[i];

                if (g[0] == '!') {
                        /* An exclusion wins wherever it stands in the list. */
                        if (g[1] && fnmatch(g + 1, dev, 0) == 0)
                                return false;
                        continue;
                }
                if (!g[0])
                        continue;
                any_positive = true;
                /* Virtual disks are never tuned by accident: "*" does not
                 * reach loop0, "loop*" does. */
                if (class && !startswith(g, class))
                        continue;
                if (fnmatch(g, dev, 0) == 0)
                        matched = true;
        }
        /* No list, or only exclusions: every real disk. */
        if (!any_positive)
                return !class;
        return matched;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The whole disks under sys/block, sorted. sys/block lists no partitions;
 * the "partition" check guards against a tree that does. */
static int list_disks(const struct kroot *root, char ***ret, size_t *ret_n)
{
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        DIR *d;
        int r;

        r = kfile_opendir(root, "sys/block", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                _cleanup_free_ char *part = NULL;

                if (de->d_name[0] == '.')
                        continue;
                part = xasprintf("sys/block/%s/partition", de->d_name);
                if (kfile_exists(root, part))
                        continue;
                names = xreallocarray(names, n + 1, sizeof(*names));
                names[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        if (n > 0)
                qsort(names, n, sizeof(*names), cmp_str);
        *ret = names;
        *ret_n = n;
        return 0;
}

/* The first scheduler of the list that the device offers, or NULL. */
static const char *choose_scheduler(char *const *wanted, size_t n_wanted, const char *offered)
{
        for (size_t i = 0; i < n_wanted; i++)
                if (kfile_selector_offers(offered, wanted[i]))
                        return wanted[i];
        return NULL;
}

static void plan_disk_knob(const struct kroot *root, const char *dev, const char *file,
                           const struct setting *s, struct target_list *l)
{
        _cleanup_free_ char *path = xasprintf("sys/block/%s/%s", dev, file);
        _cleanup_free_ char *key = xasprintf("disk %s %s", dev, s->key);
        char offered[KFILE_VALUE_MAX];
        size_t n_wanted = 0;
        char **wanted = NULL;
        const char *choice;
        int r;

        if (!kfile_path_valid(path))
                return;
        if (!streq(s->key, "scheduler")) {
                _cleanup_free_ char *value = NULL;
                bool greater;

                if (!kfile_exists(root, path)) {
                        log_debug("%s: device has no %s, skipped", key, file);
                        return;
                }
                if (target_value_parse(s->value, &value, &greater) < 0) {
                        plan_note_add(l, NULL, "%s:%u: [disk] %s=%s is not a valid value, ignoring",
                                 s->file ? s->file : "?", s->line, s->key, s->value);
                        return;
                }
                plan_target_add(l, TAKE_PTR(key), TAKE_PTR(path), value, s, greater, false);
                return;
        }

        r = kfile_read(root, path, offered, sizeof(offered));
        if (r == -ENOENT) {
                log_debug("%s: device has no I/O scheduler, skipped", key);
                return;
        }
        if (r < 0) {
                plan_note_add(l, key, "%s: cannot read %s: %s, skipped", key, path, strerror(-r));
                return;
        }
        wanted = plan_split(s->value, ",", &n_wanted);
        choice = choose_scheduler(wanted, n_wanted, offered);
        if (choice)
                plan_target_add(l, TAKE_PTR(key), TAKE_PTR(path), choice, s, false, true);
        else
                plan_note_add(l, key, "%s: none of \"%s\" is offered (the device has: %s), skipped", key, s->value,
                         offered);
        plan_strv_free(wanted, n_wanted);
}

/* Does dev carry I/O for a request-based device-mapper device (a path of
 * dm-multipath)? That dm device queues and schedules the requests and
 * hands them to its paths past their schedulers, so the [disk] settings
 * belong on it, not on the paths. A bio-based dm device (LVM, dm-crypt)
 * has no scheduler ("none" only): its disks still schedule their own I/O
 * and keep their settings. */
static bool disk_feeds_request_dm(const struct kroot *root, const char *dev)
{
        _cleanup_free_ char *holders = xasprintf("sys/block/%s/holders", dev);
        struct dirent *de;
        bool feeds = false;
        DIR *d;

        if (kfile_opendir(root, holders, &d) < 0)
                return false;
        while (!feeds && (de = readdir(d))) {
                _cleanup_free_ char *sched = NULL;
                char offered[KFILE_VALUE_MAX];

                if (!startswith(de->d_name, "dm-"))
                        continue;
                sched = xasprintf("sys/block/%s/queue/scheduler", de->d_name);
                /* Request-based: it offers schedulers, whichever is selected. */
                if (kfile_read(root, sched, offered, sizeof(offered)) >= 0 &&
                    !streq(offered, "none") && !streq(offered, "[none]")) {
                        log_debug("disk %s: a path of %s, which schedules its I/O; [disk] settings go there",
                                  dev, de->d_name);
                        feeds = true;
                }
        }
        closedir(d);
        return feeds;
}

/* A profile's [disk] rules: the knobs it sets and its devices= globs. */
struct disk_rules {
        const struct setting *knobs[ARRAY_SIZE(disk_knobs)];
        char **globs;
        size_t n_globs;
};

/* false: the profile sets no [disk] knob, nothing to plan. */
static bool disk_rules_load(const struct profile *p, struct disk_rules *ret)
{
        const struct setting *devices = profile_get(p, "disk", "devices");
        struct disk_rules r = {};
        bool any = false;

        for (size_t k = 0; k < ARRAY_SIZE(disk_knobs); k++) {
                r.knobs[k] = profile_get(p, "disk", disk_knobs[k].key);
                any = any || r.knobs[k];
        }
        if (!any)
                return false;
        if (devices)
                r.globs = plan_split(devices->value, ",", &r.n_globs);
        *ret = r;
        return true;
}

static void plan_disk(const struct kroot *root, const struct disk_rules *rules, const char *dev,
                      struct target_list *l)
{
        if (!settings_device_matches((const char *const *) rules->globs, rules->n_globs, dev))
                return;
        if (disk_feeds_request_dm(root, dev))
                return;
        for (size_t k = 0; k < ARRAY_SIZE(disk_knobs); k++)
                if (rules->knobs[k])
                        plan_disk_knob(root, dev, disk_knobs[k].file, rules->knobs[k], l);
}

static void plan_disks(const struct kroot *root, const struct profile *p, struct target_list *l)
{
        struct disk_rules rules;
        char **disks = NULL;
        size_t n_disks = 0;
        int r;

        if (!disk_rules_load(p, &rules))
                return;
        r = list_disks(root, &disks, &n_disks);
        if (r < 0)
                plan_note_add(l, NULL, "cannot list %s/sys/block: %s; [disk] settings skipped", root->path,
                         strerror(-r));
        for (size_t d = 0; d < n_disks; d++)
                plan_disk(root, &rules, disks[d], l);
        plan_strv_free(rules.globs, rules.n_globs);
        plan_strv_free(disks, n_disks);
}

int settings_plan_device(const struct kroot *root, const struct profile *p, const char *dev,
                         struct target_list *ret)
{
        _cleanup_free_ char *dir = xasprintf("sys/block/%s", dev);
        _cleanup_free_ char *part = xasprintf("sys/block/%s/partition", dev);
        struct target_list l = {};
        struct disk_rules rules;
        int r;

        if (strchr(dev, '/') || !kfile_path_valid(dir))
                return -EINVAL;
        r = kfile_access(root, dir);
        if (r < 0)
                return r;
        /* As in list_disks: whole disks only. */
        if (kfile_exists(root, part))
                return -ENOENT;
        if (disk_rules_load(p, &rules)) {
                plan_disk(root, &rules, dev, &l);
                plan_strv_free(rules.globs, rules.n_globs);
        }
        *ret = l;
        return 0;
}

int settings_plan_cpu(const struct kroot *root, const struct profile *p, const char *cpu, struct target_list *ret)
{
        _cleanup_free_ char *dir = NULL;
        struct target_list l = {};
        long n;

        if (!startswith(cpu, "cpu") || parse_long(cpu + 3, 0, INT_MAX, &n) < 0)
                return -EINVAL;
        dir = xasprintf("sys/devices/system/cpu/cpu%ld", n);
        if (!kfile_exists(root, dir))
                return -ENOENT;
        plan_cpu(root, p, n, &l);
        *ret = l;
        return 0;
}

int settings_plan_as_written(const struct kroot *root, const struct profile *p, struct target_list *ret)
{
        struct target_list l = {};

        for (size_t i = 0; i < p->n_settings; i++)
                if (!streq(p->settings[i].section, "disk") && !streq(p->settings[i].section, "hugepages"))
                        plan_setting(&p->settings[i], &l);
        plan_disks(root, p, &l);
        plan_cpu(root, p, -1, &l);
        plan_hugepages(root, p, &l);
        *ret = l;
        return 0;
}

int settings_plan(const struct kroot *root, const struct profile *p, struct target_list *ret)
{
        struct target_list l;
        int r;

        r = settings_plan_as_written(root, p, &l);
        if (r < 0)
                return r;
        /* Each knob has one writer: the KSM module's mode decides which
         * [ksm] knobs are its own (ksm.h). */
        ksm_filter_plan(p, ksm_count_memory_nodes(root), &l);
        *ret = l;
        return 0;
}
