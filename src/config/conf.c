/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon configuration (/etc/vmtuned.conf): conf_options[] drives
 * parsing, validation, the defaults, the example file and the man page
 * check. The file may also hold [sysctl], [vm], [ksm] and [disk] sections:
 * local overrides, checked by the profiles' own validator. */
#include <stdio.h>

#include "config/conf.h"

#include "config/ini.h"
#include "base/log.h"
#include "base/util.h"

#define FIELD(f) .offset = offsetof(struct vmtuned_conf, f)
#define BOOL_OPT(sec, k, def, f, h) \
        { .section = sec, .key = k, .type = OPT_BOOL, .default_value = def, FIELD(f), .help = h }
#define INT_OPT(sec, k, def, lo, hi, f, h) \
        { .section = sec, .key = k, .type = OPT_INT, .default_value = def, .min = lo, .max = hi, \
          FIELD(f), .help = h }
#define DOUBLE_OPT(sec, k, def, lo, hi, f, h) \
        { .section = sec, .key = k, .type = OPT_DOUBLE, .default_value = def, .dmin = lo, .dmax = hi, \
          FIELD(f), .help = h }

static bool group_name_valid(const char *name);
static bool metrics_path_valid(const char *path);

static const char *const log_levels[] = { "err", "warning", "notice", "info", "debug", NULL };
static const char *const numa_balancing_modes[] = { "off", "on", "keep", NULL };

const struct conf_option conf_options[] = {
        { .section = "vmtuned", .key = "profile", .type = OPT_STRING, .default_value = "virtual-host",
          FIELD(profile), .item_valid = profile_name_valid, .item_rule = "a profile name (vmtunectl profile list)",
          .help = "Profile applied at start and on reload." },
        { .section = "vmtuned", .key = "log_level", .type = OPT_LOG_LEVEL, .default_value = "info",
          .choices = log_levels, FIELD(log_level),
          .help = "Least important messages that are logged." },
        { .section = "vmtuned", .key = "libvirt_uri", .type = OPT_STRING, .default_value = "qemu:///system",
          FIELD(libvirt_uri), .item_rule = "a libvirt connection URI",
          .help = "The libvirt daemon to watch for domains." },
        { .section = "vmtuned", .key = "exclude", .type = OPT_GLOB_LIST, .default_value = "",
          FIELD(exclude), .item_rule = "domain name globs",
          .help = "Domains the balancer never moves (\"test-*,!test-db\")." },
        { .section = "vmtuned", .key = "control_group", .type = OPT_STRING, .default_value = NULL,
          FIELD(control_group), .item_valid = group_name_valid, .item_rule = "a group name",
          .help = "Group whose members may use vmtunectl besides root." },
        { .section = "vmtuned", .key = "metrics_file", .type = OPT_STRING, .default_value = NULL,
          FIELD(metrics_file), .item_valid = metrics_path_valid,
          .item_rule = "an absolute file path",
          .help = "Metrics file for node_exporter's textfile collector "
                  "(e.g. /var/lib/prometheus/node-exporter/vmtuned.prom)." },

        BOOL_OPT("balancer", "enabled", "yes", balancer.enabled,
                 "Balance VMs between NUMA nodes."),
        INT_OPT("balancer", "interval", "5", 1, 3600, balancer.interval_sec,
                "Seconds between balancer ticks; load is averaged over this interval."),
        INT_OPT("balancer", "min_nr_running_diff", "2", 1, 1000, balancer.min_nr_running_diff,
                "Act only when the busiest node has this many more runnable threads than the idlest."),
        DOUBLE_OPT("balancer", "min_load_ratio", "1.1", 1.0, 100, balancer.min_load_ratio,
                   "Act only when the busiest node's load divided by the idlest node's load exceeds this."),
        DOUBLE_OPT("balancer", "min_load_high", "1.0", 0, 1000, balancer.min_load_high,
                   "Act only when the busiest node's load exceeds this."),
        INT_OPT("balancer", "probation_ticks", "3", 0, 1000, balancer.probation_ticks,
                "Ticks a moved VM runs on its new node before its memory follows; reverted if the need vanished."),
        INT_OPT("balancer", "cooldown_ticks", "12", 0, 100000, balancer.cooldown_ticks,
                "Ticks before a moved VM may be moved again."),
        INT_OPT("balancer", "max_moves_per_tick", "1", 0, 100, balancer.max_moves_per_tick,
                "Most VMs moved in one tick, for every 50 VMs (begun) on the host."),
        INT_OPT("balancer", "max_migrate_mb_per_tick", "4096", 0, 1048576, balancer.max_migrate_mb_per_tick,
                "Most MiB of VM memory migrated in one tick; less when the measured rate copies less in 80% of the "
                "interval."),
        DOUBLE_OPT("balancer", "idle_floor", "0.5", 0, 1000, balancer.idle_floor,
                   "A VM with less load (runnable threads) is never moved; lowered to half the mean VM load "
                   "on a host of light VMs."),
        { .section = "balancer", .key = "kernel_numa_balancing", .type = OPT_ENUM, .default_value = "keep",
          .choices = numa_balancing_modes, FIELD(balancer.kernel_numa_balancing),
          .help = "The kernel's own NUMA balancing (kernel.numa_balancing) while the balancer runs; "
                  "keep leaves it as it is." },
        {},
};

static const char *const conf_sections[] = { "vmtuned", "balancer", "sysctl", "vm", "ksm", "disk", "cpu", "hugepages",
                                             NULL };

/* Portable group names (POSIX): letters, digits, '.', '_', '-', not
 * starting with '-'; 32 characters, as shadow's groupadd allows. */
static bool group_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > 32 || name[0] == '-')
                return false;
        for (; *name; name++)
                if (!((*name >= 'a' && *name <= 'z') || (*name >= 'A' && *name <= 'Z') ||
                      (*name >= '0' && *name <= '9') || *name == '.' || *name == '_' || *name == '-'))
                        return false;
        return true;
}

/* An absolute path naming a file: the daemon writes PATH.tmp next to it
 * and renames, so the directory part must exist and the name must not
 * end in '/'. */
static bool metrics_path_valid(const char *path)
{
        return path[0] == '/' && path[strlen(path) - 1] != '/';
}

static const struct conf_option *conf_option_lookup(const char *section, const char *key)
{
        for (const struct conf_option *o = conf_options; o->key; o++)
                if (streq(o->section, section) && streq(o->key, key))
                        return o;
        return NULL;
}

/* Put an already checked value into its field. */
static void store(struct vmtuned_conf *conf, const struct conf_option *opt, const char *value)
{
        void *field = (char *) conf + opt->offset;
        char **s = field;

        switch (opt->type) {
        case OPT_STRING:
        case OPT_ENUM:
                free(*s);
                *s = value && *value ? xstrdup(value) : NULL;
                break;
        case OPT_INT:
                (void) parse_long(value, opt->min, opt->max, field);
                break;
        case OPT_DOUBLE:
                (void) option_parse_double(value, field);
                break;
        case OPT_BOOL:
                (void) option_parse_bool(value, field);
                break;
        case OPT_LOG_LEVEL:
                *(int *) field = log_level_from_string(value);
                break;
        case OPT_GLOB_LIST:
        case OPT_NAME_LIST:
                option_list_free(*(char ***) field);
                *(char ***) field = option_split_list(value ? value : "");
                break;
        }
}

void conf_free(struct vmtuned_conf *conf)
{
        if (!conf)
                return;
        for (const struct conf_option *o = conf_options; o->key; o++)
                if (o->type == OPT_STRING || o->type == OPT_ENUM)
                        free(*(char **) ((char *) conf + o->offset));
                else if (o->type == OPT_GLOB_LIST || o->type == OPT_NAME_LIST)
                        option_list_free(*(char ***) ((char *) conf + o->offset));
        for (size_t i = 0; i < conf->n_overrides; i++)
                setting_clear(&conf->overrides[i]);
        free(conf->overrides);
        free(conf->file);
        free(conf);
}

static struct vmtuned_conf *conf_new_default(void)
{
        struct vmtuned_conf *conf = xcalloc(1, sizeof(*conf));

        for (const struct conf_option *o = conf_options; o->key; o++)
                store(conf, o, o->default_value);
        return conf;
}

static int conf_on_section(void *userdata, const char *section, struct conf_error *err)
{
        for (const char *const *s = conf_sections; *s; s++)
                if (streq(*s, section))
                        return 0;
        conf_error_set(err, "[%s]: unknown section (allowed: vmtuned, balancer, sysctl, vm, ksm, disk, cpu, "
                       "hugepages)", section);
        return -EINVAL;
}

static int unknown_key(const char *section, const char *key, struct conf_error *err)
{
        char allowed[512] = "";
        size_t n = 0;

        for (const struct conf_option *o = conf_options; o->key && n < sizeof(allowed); o++)
                if (streq(o->section, section))
                        n += (size_t) snprintf(allowed + n, sizeof(allowed) - n, "%s%s", n ? ", " : "", o->key);
        conf_error_set(err, "[%s] %s: unknown key (allowed: %s)", section, key, allowed);
        return -EINVAL;
}

/* A local override: the profile validator, then last wins as in a profile. */
static int add_override(struct vmtuned_conf *conf, const char *section, const char *key,
                        const char *value, unsigned line, struct conf_error *err)
{
        struct profile view = { .settings = conf->overrides, .n_settings = conf->n_overrides };
        _cleanup_free_ char *converted = NULL;
        int r;

        key = profile_key_alias(section, key, value, &converted);
        if (converted)
                value = converted;
        r = profile_check_setting(section, key, value, err);
        if (r < 0)
                return r;
        profile_set(&view, &(const struct setting){
                .section = (char *) section, .key = (char *) key, .value = (char *) value,
                .file = conf->file, .line = line,
        });
        conf->overrides = view.settings;
        conf->n_overrides = view.n_settings;
        return 0;
}

static int conf_on_entry(void *userdata, const char *section, const char *key, const char *value,
                         unsigned line, struct conf_error *err)
{
        struct vmtuned_conf *conf = userdata;
        const struct conf_option *opt;
        int r;

        if (profile_section_is_setting(section))
                return add_override(conf, section, key, value, line, err);
        opt = conf_option_lookup(section, key);
        if (!opt)
                return unknown_key(section, key, err);
        r = option_check_value(opt, value, err);
        if (r < 0)
                return r;
        store(conf, opt, value);
        if (opt->offset == offsetof(struct vmtuned_conf, profile))
                conf->profile_in_file = true;
        return 0;
}

static bool conf_is_list(void *userdata, const char *section, const char *key)
{
        const struct conf_option *opt;

        if (profile_section_is_setting(section))
                return profile_key_is_list(section, key);
        opt = conf_option_lookup(section, key);
        return opt && (opt->type == OPT_GLOB_LIST || opt->type == OPT_NAME_LIST);
}

int conf_load(const char *path, bool must_exist, struct vmtuned_conf **ret, struct conf_error *err)
{
        _cleanup_free_ char *text = NULL;
        struct vmtuned_conf *conf;
        struct conf_parser parser = {
                .file = path, .section = conf_on_section, .entry = conf_on_entry, .is_list = conf_is_list,
        };
        int r;

        r = conf_read_file(path, &text, err);
        if (r == -ENOENT && !must_exist) {
                *ret = conf_new_default();
                return 0;
        }
        if (r < 0)
                return r;
        conf = conf_new_default();
        conf->file = xstrdup(path);
        parser.userdata = conf;
        r = conf_parse_text(text, &parser, err);
        if (r < 0) {
                conf_free(conf);
                return r;
        }
        *ret = conf;
        return 0;
}

void conf_write_example(FILE *f)
{
        const char *section = NULL;
        char allowed[512];

        fputs("# vmtuned.conf: configuration of vmtuned, the KVM host tuning daemon; see\n"
              "# vmtuned.conf(5). Every option is shown with its default, commented out.\n"
              "# (Generated by conf_write_example(); a unit test keeps the two equal.)\n", f);
        for (const struct conf_option *o = conf_options; o->key; o++) {
                if (!section || !streq(section, o->section)) {
                        section = o->section;
                        fprintf(f, "\n[%s]\n", section);
                } else {
                        fputc('\n', f);
                }
                option_describe_allowed(o, allowed, sizeof(allowed));
                fprintf(f, "# %s\n# Allowed: %s.\n", o->help, allowed);
                fprintf(f, "# %s =%s%s\n", o->key, o->default_value && *o->default_value ? " " : "",
                        o->default_value ? o->default_value : "");
        }
        fputs("\n"
              "# Local overrides: [sysctl], [vm], [ksm] and [disk] sections here are\n"
              "# checked like a profile's (vmtuned-profiles(7)) and win over the active\n"
              "# profile, key by key. For example:\n"
              "#\n"
              "# [sysctl]\n"
              "# vm.swappiness = 10\n"
              "#\n"
              "# [ksm]\n"
              "# run = 0\n"
              "#\n"
              "# [disk]\n"
              "# devices = sd*,vd*\n"
              "# scheduler = mq-deadline,none\n", f);
}

void conf_list_options(FILE *f)
{
        for (const struct conf_option *o = conf_options; o->key; o++)
                fprintf(f, "%s %s\n", o->section, o->key);
        for (const struct conf_option *o = profile_main_options; o->key; o++)
                fprintf(f, "%s %s\n", o->section, o->key);
        for (const struct setting_key *k = profile_keys; k->section; k++)
                fprintf(f, "%s %s\n", k->section, k->key);
}
