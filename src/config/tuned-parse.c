/* SPDX-License-Identifier: GPL-2.0-or-later */
/* tuned.conf to a vmtuned profile (tuned-import.h). tuned's format is the
 * same INI as vmtuned's, and its [sysctl], [vm], [disk] and [cpu] keys
 * mostly carry the same names: each key=value goes through vmtuned's own
 * validator, so whatever the validator accepts today is carried over
 * and the rest is commented with its reason. A section is read whole
 * before it is written, because one conditional key (uname_regex=) turns
 * the whole section into something vmtuned cannot express. */
#include "config/tuned-import.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "config/ini.h"
#include "config/profile.h"

/* Keep written lines under the INI reader's 200 bytes. */
#define LINE_MAX_OUT 180

/* tuned plugins vmtuned has no counterpart for, and why. */
static const struct {
        const char *section;
        const char *why;
} plugin_reasons[] = {
        { "script", "runs a shell script: vmtuned runs no scripts" },
        { "bootloader", "edits the kernel command line: vmtuned does not touch the boot loader" },
        { "variables", "defines tuned variables: vmtuned has no ${} expansion" },
        { "modules", "loads kernel modules with options: not vmtuned's to do" },
        { "sysfs", "writes arbitrary sysfs files: vmtuned writes only the knobs it knows" },
        { "selinux", "tunes SELinux: not a vmtuned setting" },
        { "service", "starts and stops services: not vmtuned's to do" },
        { "systemd", "sets systemd CPU affinity: not a vmtuned setting" },
        { "irqbalance", "configures irqbalance: not a vmtuned setting" },
        { "scheduler", "tunes process scheduling and affinity: vmtuned's balancer places the VMs" },
        { "audio", "powers audio codecs down: not a vmtuned setting" },
        { "video", "sets GPU power modes: not a vmtuned setting" },
        { "scsi_host", "sets SCSI link power management: not a vmtuned setting" },
        { "usb", "sets USB autosuspend: not a vmtuned setting" },
        { "net", "tunes network interfaces (ethtool): not a vmtuned setting" },
        { "mounts", "changes mount options: not a vmtuned setting" },
        { "eeepc_she", "a laptop's power mode: not a vmtuned setting" },
        { "rtentsk", "a real-time helper: not a vmtuned setting" },
};

/* Keys every tuned plugin takes that say how tuned runs it, not a value. */
static const char *const plugin_options[] = {
        "priority", "type", "devices_udev_regex", "replace", "drop", "enabled", "dynamic_tuning", NULL,
};

struct line {
        char *key, *value;      /* NULL key: a comment or blank line (value: the text) */
};

struct section {
        char *name;
        struct line *lines;
        size_t n_lines;
};

struct out {
        FILE *f;
        char *buf;
        size_t size;
};

static char *strip(char *s)
{
        char *e;

        s += strspn(s, " \t");
        e = s + strlen(s);
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                *--e = '\0';
        return s;
}

/* "# why" then "#- original", both cut to fit a line. */
static _printf_(3, 4) void comment_out(FILE *f, const char *original, const char *fmt, ...)
{
        _cleanup_free_ char *why = NULL;
        va_list ap;

        va_start(ap, fmt);
        why = xvasprintf(fmt, ap);
        va_end(ap);
        fprintf(f, "# not carried over: %.*s\n", LINE_MAX_OUT - 20, why);
        fprintf(f, "#- %.*s\n", LINE_MAX_OUT - 3, original);
}

static const char *plugin_reason(const char *section)
{
        char base[64];

        snprintf(base, sizeof(base), "%.*s", (int) strcspn(section, "."), section);
        for (size_t i = 0; i < ARRAY_SIZE(plugin_reasons); i++)
                if (streq(plugin_reasons[i].section, base))
                        return plugin_reasons[i].why;
        return NULL;
}

static bool is_plugin_option(const char *key)
{
        for (const char *const *o = plugin_options; *o; o++)
                if (streq(*o, key))
                        return true;
        return false;
}

/* A tuned instance ([sysctl.thunderx] with type=sysctl) or a section with
 * a condition applies only on some machines: vmtuned has no conditions. */
static const char *conditional(const struct section *s)
{
        for (size_t i = 0; i < s->n_lines; i++) {
                const char *k = s->lines[i].key;

                if (k && (streq(k, "uname_regex") || streq(k, "cpuinfo_regex")))
                        return "applies only where uname_regex=/cpuinfo_regex= match: vmtuned profiles have no "
                               "conditions";
        }
        if (strchr(s->name, '.'))
                return "a tuned plugin instance: vmtuned has one section per kind";
        return NULL;
}

static void write_main(FILE *f, const struct section *s)
{
        fputs("[main]\n", f);
        for (size_t i = 0; i < s->n_lines; i++) {
                const struct line *l = &s->lines[i];
                _cleanup_free_ char *orig = NULL;

                if (!l->key)
                        continue;
                orig = xasprintf("%s=%s", l->key, l->value);
                if (strstr(l->value, "${"))
                        comment_out(f, orig, "uses a tuned variable: vmtuned has no ${} expansion");
                else if (streq(l->key, "summary"))
                        fprintf(f, "summary=%.*s\n", LINE_MAX_OUT - 8, l->value);
                else if (streq(l->key, "include")) {
                        fputs("# include names tuned profiles; here it means the vmtuned profiles of those\n"
                              "# names: convert them too, or vmtuned's own profile of that name is used\n", f);
                        fprintf(f, "include=%.*s\n", LINE_MAX_OUT - 8, l->value);
                } else
                        comment_out(f, orig, "[main] %s is tuned's own option", l->key);
        }
}

static void write_section(FILE *f, const struct section *s)
{
        const char *why = plugin_reason(s->name);
        const char *cond = why ? NULL : conditional(s);
        bool header = false;

        if (streq(s->name, "main")) {
                write_main(f, s);
                return;
        }
        fputc('\n', f);
        if (why || cond) {
                fprintf(f, "# [%.40s] is not carried over: it %s\n", s->name, why ? why : cond);
                for (size_t i = 0; i < s->n_lines; i++)
                        if (s->lines[i].key)
                                fprintf(f, "#- %.*s=%.*s\n", LINE_MAX_OUT / 2, s->lines[i].key,
                                        LINE_MAX_OUT / 2, s->lines[i].value);
                return;
        }
        for (size_t i = 0; i < s->n_lines; i++) {
                const struct line *l = &s->lines[i];
                _cleanup_free_ char *orig = NULL;
                struct conf_error err = {};

                if (!l->key)
                        continue;
                orig = xasprintf("[%.40s] %s=%s", s->name, l->key, l->value);
                if (strstr(l->value, "${") || strstr(l->key, "${"))
                        comment_out(f, orig, "uses a tuned variable: vmtuned has no ${} expansion");
                else if (is_plugin_option(l->key))
                        comment_out(f, orig, "%s= says how tuned runs its plugin, not a value to set", l->key);
                else if (strlen(l->key) + strlen(l->value) + 2 > LINE_MAX_OUT)
                        comment_out(f, orig, "longer than a line of a vmtuned profile");
                else if (profile_check_setting(s->name, l->key, l->value, &err) < 0)
                        comment_out(f, orig, "%s", err.message);
                else {
                        if (!header)
                                fprintf(f, "[%s]\n", s->name);
                        header = true;
                        fprintf(f, "%s=%s\n", l->key, l->value);
                }
        }
        if (!header)
                fprintf(f, "# [%.40s]: nothing carried over, so no section\n", s->name);
}

static struct section *section_add(struct section **v, size_t *n, const char *name)
{
        *v = xreallocarray(*v, *n + 1, sizeof(**v));
        (*v)[*n] = (struct section) { .name = xstrdup(name) };
        return &(*v)[(*n)++];
}

static void line_add(struct section *s, const char *key, const char *value)
{
        s->lines = xreallocarray(s->lines, s->n_lines + 1, sizeof(*s->lines));
        s->lines[s->n_lines++] = (struct line) { .key = key ? xstrdup(key) : NULL, .value = xstrdup(value) };
}

char *tuned_import(const char *name, const char *text)
{
        _cleanup_free_ char *copy = xstrdup(text);
        struct section *secs = NULL, *cur;
        size_t n_secs = 0;
        char *save = NULL, *buf = NULL;
        size_t size = 0;
        FILE *f;

        /* [main] first, always: the summary says where the profile came from. */
        cur = section_add(&secs, &n_secs, "main");
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char *s = strip(l), *eq;

                if (*s == '\0' || *s == '#' || *s == ';')
                        continue;
                if (*s == '[' && s[strlen(s) - 1] == ']') {
                        s[strlen(s) - 1] = '\0';
                        s = strip(s + 1);
                        cur = NULL;
                        for (size_t i = 0; i < n_secs; i++)
                                if (streq(secs[i].name, s))
                                        cur = &secs[i];
                        if (!cur)
                                cur = section_add(&secs, &n_secs, s);
                        continue;
                }
                eq = strchr(s, '=');
                if (!eq) {
                        line_add(cur, "(not key=value)", s);
                        continue;
                }
                *eq = '\0';
                line_add(cur, strip(s), strip(eq + 1));
        }

        f = open_memstream(&buf, &size);
        if (!f)
                abort();
        fprintf(f, "# Converted from tuned's profile %.*s by vmtunectl import-tuned.\n"
                   "# Lines \"#- ...\" were not carried over; the comment above each says why.\n",
                LINE_MAX_OUT - 60, name);
        for (size_t i = 0; i < n_secs; i++)
                write_section(f, &secs[i]);
        fclose(f);
        for (size_t i = 0; i < n_secs; i++) {
                for (size_t j = 0; j < secs[i].n_lines; j++) {
                        free(secs[i].lines[j].key);
                        free(secs[i].lines[j].value);
                }
                free(secs[i].lines);
                free(secs[i].name);
        }
        free(secs);
        return buf;
}
