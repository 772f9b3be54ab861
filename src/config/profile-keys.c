/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The profile keys: one table (profile_keys[]) for validation, the kernel
 * file each key sets (the settings engine uses .path) and the man page; and
 * the one validator of setting sections, shared by profiles and the config
 * file's local overrides (profile_check_setting). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>

#include "config/profile.h"

#include "config/ini.h"
#include "config/option.h"
#include "base/util.h"
#include "tuning/cpu-policy.h"
#include "tuning/hugepages-policy.h"

/* The kernel reads most of these knobs with kstrtouint(). */
#define KERNEL_UINT_MAX ((long) (UINT_MAX > LONG_MAX ? LONG_MAX : UINT_MAX))

#define THP "sys/kernel/mm/transparent_hugepage/"
#define KSM "sys/kernel/mm/ksm/"

#define CPU "sys/devices/system/cpu/"

static bool scheduler_name_valid(const char *name);
static bool governor_name_valid(const char *name);
static bool epb_valid(const char *value);
static bool force_latency_valid(const char *value);
static bool hugepages_amount_valid(const char *value);

/* One row: the key, its kernel file, and the option row that checks its value. */
#define KEY(sec, k, p, ...)                                                   \
        { .section = sec, .key = k, .path = p,                              \
          .check = &(const struct conf_option){ .section = sec, .key = k,        \
                                           .offset = (size_t) -1, __VA_ARGS__ } }
#define INT_RANGE(lo, hi) .type = OPT_INT, .min = (lo), .max = (hi)
#define CHOICES(...) .type = OPT_ENUM, .choices = (const char *const[]){ __VA_ARGS__, NULL }

const struct setting_key profile_keys[] = {
        KEY("vm", "transparent_hugepages", THP "enabled",
            CHOICES("always", "madvise", "never"),
            .help = "Transparent huge pages for anonymous memory: always, only in madvise(2) regions, or never."),
        KEY("vm", "transparent_hugepage_defrag", THP "defrag",
            CHOICES("always", "defer", "defer+madvise", "madvise", "never"),
            .help = "Whether a page fault may stall to compact memory for a huge page."),
        KEY("vm", "transparent_hugepage_shmem", THP "shmem_enabled",
            CHOICES("always", "within_size", "advise", "never", "deny", "force"),
            .help = "Huge pages for shared memory and tmpfs (deny and force are for testing)."),
        KEY("vm", "khugepaged_defrag", THP "khugepaged/defrag", INT_RANGE(0, 1),
            .help = "Let khugepaged compact memory to collapse small pages into huge pages (1) or not (0)."),
        KEY("vm", "khugepaged_pages_to_scan", THP "khugepaged/pages_to_scan", INT_RANGE(1, KERNEL_UINT_MAX),
            .help = "Pages khugepaged scans at each wake-up."),
        KEY("vm", "khugepaged_scan_sleep_millisecs", THP "khugepaged/scan_sleep_millisecs",
            INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Milliseconds khugepaged sleeps between scans."),
        KEY("vm", "khugepaged_alloc_sleep_millisecs", THP "khugepaged/alloc_sleep_millisecs",
            INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Milliseconds khugepaged waits after failing to allocate a huge page."),
        /* 511 = HPAGE_PMD_NR - 1 with 4 KiB pages (x86-64, most arm64). */
        KEY("vm", "khugepaged_max_ptes_none", THP "khugepaged/max_ptes_none", INT_RANGE(0, 511),
            .help = "Unmapped pages khugepaged may fill in to collapse a huge page (more memory, fewer TLB misses)."),

        /* No kernel file: these configure vmtuned's KSM module (ksm.h). */
        KEY("ksm", "mode", NULL, CHOICES("off", "on", "auto"), .default_value = "on",
            .help = "off stops KSM; on applies this section as written; auto runs KSM only while memory is tight."),
        KEY("ksm", "ksm_interval", NULL, INT_RANGE(1, 3600), .default_value = "10",
            .help = "Seconds between mode=auto decisions."),
        KEY("ksm", "ksm_threshold_percent", NULL, INT_RANGE(0, 100), .default_value = "20",
            .help = "mode=auto merges while MemAvailable is below this percentage of MemTotal."),
        KEY("ksm", "unmerge_for_numa", NULL, .type = OPT_BOOL, .default_value = "no",
            .help = "Unmerge every merged page now (run=2) to change merge_across_nodes on a host with more than one "
                    "memory node, if the unmerged copies fit with ksm_threshold_percent of memory to spare; no: the "
                    "change waits until nothing is merged."),
        KEY("ksm", "unmerge_on_stop", NULL, .type = OPT_BOOL, .default_value = "no",
            .help = "yes: when vmtuned stops or goes off, unmerge every page KSM merged (run=2) before run goes back, "
                    "if the unmerged copies fit with ksm_threshold_percent of memory to spare; no: run goes back to "
                    "its value from before vmtuned, which stops new merging and keeps what is shared."),
        KEY("ksm", "run", KSM "run", INT_RANGE(0, 2),
            .help = "0 stops KSM, 1 runs it, 2 stops it and unmerges every merged page."),
        KEY("ksm", "pages_to_scan", KSM "pages_to_scan", INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Pages ksmd scans at each wake-up."),
        KEY("ksm", "sleep_millisecs", KSM "sleep_millisecs", INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Milliseconds ksmd sleeps between scans."),
        KEY("ksm", "merge_across_nodes", KSM "merge_across_nodes", INT_RANGE(0, 1),
            .help = "Merge identical pages of different NUMA nodes (1) or keep one copy per node (0); written only on a "
                    "host with more than one memory node, and only while nothing is merged (see unmerge_for_numa)."),
        KEY("ksm", "max_page_sharing", KSM "max_page_sharing", INT_RANGE(2, INT_MAX),
            .help = "Most pages merged into one KSM page."),
        KEY("ksm", "stable_node_chains_prune_millisecs", KSM "stable_node_chains_prune_millisecs",
            INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Milliseconds between prunings of stale stable node chains."),
        KEY("ksm", "use_zero_pages", KSM "use_zero_pages", INT_RANGE(0, 1),
            .help = "Merge empty pages with the kernel's zero page (1) or among themselves (0)."),
        KEY("ksm", "smart_scan", KSM "smart_scan", INT_RANGE(0, 1),
            .help = "Skip pages that did not merge on earlier scans (Linux 6.7 and later)."),
        KEY("ksm", "advisor_mode", KSM "advisor_mode", CHOICES("none", "scan-time"),
            .help = "Let the kernel set pages_to_scan to reach advisor_target_scan_time (Linux 6.8 and later)."),
        KEY("ksm", "advisor_max_cpu", KSM "advisor_max_cpu", INT_RANGE(1, 100),
            .help = "Most CPU percent the scan-time advisor lets ksmd use."),
        KEY("ksm", "advisor_min_pages_to_scan", KSM "advisor_min_pages_to_scan", INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Fewest pages per wake-up the scan-time advisor chooses."),
        KEY("ksm", "advisor_max_pages_to_scan", KSM "advisor_max_pages_to_scan", INT_RANGE(0, KERNEL_UINT_MAX),
            .help = "Most pages per wake-up the scan-time advisor chooses."),
        KEY("ksm", "advisor_target_scan_time", KSM "advisor_target_scan_time", INT_RANGE(1, KERNEL_UINT_MAX),
            .help = "Seconds a full scan should take under the scan-time advisor."),

        KEY("disk", "devices", NULL, .type = OPT_GLOB_LIST, .min = 1,
            .item_valid = profile_device_glob_valid, .item_rule = "globs of /sys/block names (no '/' or '..')",
            .help = "Disks the [disk] settings apply to: globs of names in /sys/block, '!' excludes (\"sd*,vd*,!sda\")."),
        KEY("disk", "scheduler", NULL, .type = OPT_NAME_LIST, .min = 1,
            .item_valid = scheduler_name_valid, .item_rule = "scheduler names ([a-z0-9_-])",
            .help = "I/O scheduler, with fallbacks: the first one the device offers is used (\"mq-deadline,none\")."),
        KEY("disk", "read_ahead_kb", NULL, INT_RANGE(0, KERNEL_UINT_MAX), .allow_greater = true,
            .help = "Read-ahead in KiB (queue/read_ahead_kb)."),
        KEY("disk", "nr_requests", NULL, INT_RANGE(4, KERNEL_UINT_MAX), .allow_greater = true,
            .help = "Request queue depth (queue/nr_requests)."),

        /* [cpu]: the per-CPU and per-policy keys (path NULL) reach every
         * CPU or cpufreq policy of the host (plan-cpu.c). */
        KEY("cpu", "governor", NULL, .type = OPT_NAME_LIST, .min = 1,
            .item_valid = governor_name_valid, .item_rule = "governor names ([a-z0-9_-]), '|' as in tuned allowed",
            .help = "cpufreq governor of every policy, with fallbacks: the first one the policy offers in "
                    "scaling_available_governors (\"performance,schedutil\")."),
        KEY("cpu", "energy_perf_bias", NULL, .type = OPT_STRING,
            .item_valid = epb_valid, .item_rule = "performance (0), normal (6), powersave (15), or 0..15",
            .help = "Energy/performance bias of every CPU (cpuN/power/energy_perf_bias): performance, normal, "
                    "powersave as in tuned, or a number 0 (performance) to 15 (power saving)."),
        KEY("cpu", "energy_performance_preference", NULL, .type = OPT_NAME_LIST, .min = 1,
            .item_valid = scheduler_name_valid, .item_rule = "preference names ([a-z0-9_-])",
            .help = "Energy-performance preference of every cpufreq policy (intel_pstate, amd-pstate), with "
                    "fallbacks: the first one offered in energy_performance_available_preferences."),
        KEY("cpu", "min_perf_pct", NULL, INT_RANGE(0, 100),
            .help = "intel_pstate: lowest performance state, in percent of the highest (100: always full speed)."),
        KEY("cpu", "max_perf_pct", NULL, INT_RANGE(0, 100),
            .help = "intel_pstate: highest performance state, in percent of the highest."),
        KEY("cpu", "force_latency", NULL, .type = OPT_STRING,
            .item_valid = force_latency_valid,
            .item_rule = "alternatives separated by '|': cstate.id:N, cstate.id_no_zero:N or microseconds",
            .help = "Deepest idle states allowed, as tuned's force_latency: the exit latency of C-state N "
                    "(cstate.id:N; cstate.id_no_zero:N skips a state of latency 0) or a number of "
                    "microseconds, the first alternative of \"A|B\" that resolves; every idle state with a "
                    "longer exit latency is disabled on every CPU (cpuN/cpuidle/stateM/disable)."),

        /* [hugepages]: static huge pages (plan-hugepages.c). */
        KEY("hugepages", "page_size", NULL, CHOICES("2M", "1G"), .default_value = "2M",
            .help = "Size of the huge pages this section reserves: 2M or 1G (1G pages are often only "
                    "available at boot, when memory is not yet fragmented)."),
        KEY("hugepages", "total", NULL, .type = OPT_STRING,
            .item_valid = hugepages_amount_valid, .item_rule = HUGEPAGES_AMOUNT_RULE,
            .help = "Huge pages reserved host-wide (hugepages-SIZE/nr_hugepages): a count, an amount of memory "
                    "(8G), or a percentage of MemTotal (25%); the kernel spreads them over the nodes."),
        KEY("hugepages", "per_node", NULL, .type = OPT_STRING,
            .item_valid = hugepages_amount_valid, .item_rule = HUGEPAGES_AMOUNT_RULE,
            .help = "Huge pages reserved on every NUMA node (nodeN/hugepages/hugepages-SIZE/nr_hugepages): a "
                    "count, an amount of memory (8G), or a percentage of the node's memory (25%); wins over total."),
        KEY("hugepages", "overcommit", NULL, .type = OPT_STRING,
            .item_valid = hugepages_amount_valid, .item_rule = HUGEPAGES_AMOUNT_RULE,
            .help = "Surplus huge pages the kernel may allocate beyond the reserved ones when asked "
                    "(nr_overcommit_hugepages): a count, an amount of memory or a percentage of MemTotal."),
        {},
};

const struct conf_option profile_main_options[] = {
        { .section = "main", .key = "summary", .type = OPT_STRING, .offset = (size_t) -1,
          .help = "One line saying what the profile is for." },
        { .section = "main", .key = "include", .type = OPT_NAME_LIST, .min = 1, .offset = (size_t) -1,
          .item_valid = profile_name_valid, .item_rule = "profile names",
          .help = "Profiles to load first, in order; this profile's settings win key by key." },
        {},
};

static const char *const setting_sections[] = { "sysctl", "vm", "ksm", "disk", "cpu", "hugepages", NULL };

static bool is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool scheduler_name_valid(const char *name)
{
        if (!*name)
                return false;
        for (; *name; name++)
                if (!((*name >= 'a' && *name <= 'z') || (*name >= '0' && *name <= '9') ||
                      *name == '_' || *name == '-'))
                        return false;
        return true;
}

/* tuned separates governor fallbacks with '|': accepted inside an item. */
static bool governor_name_valid(const char *name)
{
        _cleanup_free_ char *copy = xstrdup(name);
        char *save = NULL;
        bool any = false;

        for (char *t = strtok_r(copy, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
                if (!scheduler_name_valid(t))
                        return false;
                any = true;
        }
        return any && name[strlen(name) - 1] != '|' && name[0] != '|';
}

static bool epb_valid(const char *value)
{
        int v;

        return cpu_epb_parse(value, &v) == 0;
}

static bool force_latency_valid(const char *value)
{
        struct latency_alt alts[FORCE_LATENCY_ALTS_MAX];
        size_t n;

        return force_latency_parse(value, alts, &n) == 0;
}

static bool hugepages_amount_valid(const char *value)
{
        struct hugepages_amount a;

        return hugepages_amount_parse(value, &a) == 0;
}

bool profile_sysctl_key_valid(const char *key)
{
        bool component_empty = true;

        for (const char *c = key; *c; c++) {
                if (*c == '.') {
                        if (component_empty)
                                return false;   /* leading dot or ".." */
                        component_empty = true;
                } else if (is_alnum(*c) || *c == '_' || *c == '-') {
                        component_empty = false;
                } else {
                        return false;           /* '/', white space, ... */
                }
        }
        return !component_empty;                /* not empty, no trailing dot */
}

bool profile_device_glob_valid(const char *glob)
{
        if (*glob == '!')
                glob++;
        if (!*glob || strchr(glob, '/') || strstr(glob, ".."))
                return false;
        for (const char *c = glob; *c; c++)
                if ((unsigned char) *c <= ' ' || (unsigned char) *c >= 0x7f || *c == ',')
                        return false;
        return true;
}

bool profile_name_valid(const char *name)
{
        size_t n = strlen(name);

        /* NAME.conf must fit in a file name. */
        if (n == 0 || n > NAME_MAX - strlen(".conf") || name[0] == '.')
                return false;
        for (; *name; name++)
                if (!is_alnum(*name) && *name != '_' && *name != '.' && *name != '-')
                        return false;
        return true;
}

bool profile_section_is_setting(const char *section)
{
        for (const char *const *s = setting_sections; *s; s++)
                if (streq(*s, section))
                        return true;
        return false;
}

const struct setting_key *profile_key_lookup(const char *section, const char *key)
{
        for (const struct setting_key *k = profile_keys; k->section; k++)
                if (streq(k->section, section) && streq(k->key, key))
                        return k;
        return NULL;
}

/* tuned's readahead: KiB, or 512-byte sectors with a word starting with
 * 's' after the number ("8192 s"), as tuned's disk plugin reads it; a
 * leading '>' as everywhere in tuned. NULL if it is not such a value. */
static char *readahead_to_kb(const char *value)
{
        const char *p = value;
        bool greater = *p == '>';
        unsigned long long v;
        char *end;

        if (greater)
                p++;
        if (*p < '0' || *p > '9')
                return NULL;
        errno = 0;
        v = strtoull(p, &end, 10);
        if (errno || v > (unsigned long long) KERNEL_UINT_MAX * 2)
                return NULL;
        while (*end == ' ' || *end == '\t')
                end++;
        if (*end == 's')
                v /= 2;
        else if (*end)
                return NULL;
        return xasprintf("%s%llu", greater ? ">" : "", v);
}

const char *profile_key_alias(const char *section, const char *key, const char *value, char **ret_value)
{
        *ret_value = NULL;
        if (!streq(section, "disk"))
                return key;     /* [cpu], [sysctl], [vm]: tuned's names are ours */
        if (streq(key, "elevator"))
                return "scheduler";
        if (streq(key, "readahead")) {
                *ret_value = readahead_to_kb(value);
                return "read_ahead_kb";
        }
        return key;
}

bool profile_key_is_list(const char *section, const char *key)
{
        const struct setting_key *k;

        if (streq(section, "main"))
                return streq(key, "include");
        k = profile_key_lookup(section, key);
        return k && (k->check->type == OPT_GLOB_LIST || k->check->type == OPT_NAME_LIST);
}

static int unknown_key(const char *section, const char *key, struct conf_error *err)
{
        char allowed[768] = "";
        size_t n = 0;

        for (const struct setting_key *k = profile_keys; k->section && n < sizeof(allowed); k++)
                if (streq(k->section, section))
                        n += (size_t) snprintf(allowed + n, sizeof(allowed) - n, "%s%s", n ? ", " : "", k->key);
        conf_error_set(err, "[%s] %s: unknown key (allowed: %s)", section, key, allowed);
        return -EINVAL;
}

#define SYSCTL_VALUES "text without control characters, or >N to set only if greater than the current value"

static int check_sysctl(const char *key, const char *value, struct conf_error *err)
{
        const char *what = NULL;
        long v;

        if (!profile_sysctl_key_valid(key)) {
                conf_error_set(err, "[sysctl] %s: invalid sysctl key "
                               "(allowed: dot-separated names of letters, digits, '_' and '-')", key);
                return -EINVAL;
        }
        if (!*value)
                what = "empty value";
        else if (value[0] == '>' && parse_long(value + 1, LONG_MIN, LONG_MAX, &v) < 0)
                what = "'>' must be followed by an integer";
        else
                for (const char *c = value; *c && !what; c++)
                        if (((unsigned char) *c < 0x20 && *c != '\t') || *c == 0x7f)
                                what = "value contains a control character";
        if (what) {
                conf_error_set(err, "[sysctl] %s: %s (allowed: " SYSCTL_VALUES ")", key, what);
                return -EINVAL;
        }
        return 0;
}

int profile_check_setting(const char *section, const char *key, const char *value,
                          struct conf_error *err)
{
        const struct setting_key *k;

        if (streq(section, "sysctl"))
                return check_sysctl(key, value, err);
        if (!profile_section_is_setting(section)) {
                conf_error_set(err, "[%s] %s: unknown section (allowed: sysctl, vm, ksm, disk, cpu, hugepages)",
                               section, key);
                return -EINVAL;
        }
        k = profile_key_lookup(section, key);
        if (!k)
                return unknown_key(section, key, err);
        return option_check_value(k->check, value, err);
}
