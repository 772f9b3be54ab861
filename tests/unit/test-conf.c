/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon configuration: defaults, every option into its field, local
 * overrides checked like profiles, errors naming file, line and key, and
 * the example file kept equal to conf_write_example(). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "config/conf.h"
#include "config/ini.h"
#include "base/log.h"
#include "config/profile.h"
#include "testlib.h"

struct fixture {
        char *dir;
        char *path;               /* dir/vmtuned.conf */
        struct conf_error err;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-conf");
        f->path = xasprintf("%s/vmtuned.conf", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tl_rm_rf(f->dir);
        free(f->dir);
        free(f->path);
        free(f);
        return 0;
}

static struct vmtuned_conf *load_ok(struct fixture *f, const char *text)
{
        struct vmtuned_conf *conf = NULL;

        tl_write(f->dir, "vmtuned.conf", text);
        if (conf_load(f->path, true, &conf, &f->err) < 0)
                fail_msg("%s", f->err.message);
        assert_non_null(conf);
        return conf;
}

/* Load text expecting an error; the message must read "PATH:" + rest. */
static void load_fails(struct fixture *f, const char *text, const char *rest)
{
        struct vmtuned_conf *sentinel = (struct vmtuned_conf *) 0x1, *conf = sentinel;
        _cleanup_free_ char *want = xasprintf("%s:%s", f->path, rest);

        tl_write(f->dir, "vmtuned.conf", text);
        assert_int_equal(conf_load(f->path, true, &conf, &f->err), -EINVAL);
        assert_ptr_equal(conf, sentinel);
        assert_string_equal(f->err.message, want);
}

static void assert_defaults(const struct vmtuned_conf *c)
{
        assert_string_equal(c->profile, "virtual-host");
        assert_int_equal(c->log_level, LOG_INFO);
        assert_string_equal(c->libvirt_uri, "qemu:///system");
        assert_non_null(c->exclude);
        assert_null(c->exclude[0]);
        assert_null(c->control_group);
        assert_null(c->metrics_file);
        assert_true(c->balancer.enabled);
        assert_int_equal(c->balancer.interval_sec, 5);
        assert_int_equal(c->balancer.min_nr_running_diff, 2);
        assert_true(c->balancer.min_load_ratio == 1.1);
        assert_true(c->balancer.min_load_high == 1.0);
        assert_int_equal(c->balancer.probation_ticks, 3);
        assert_int_equal(c->balancer.cooldown_ticks, 12);
        assert_int_equal(c->balancer.max_moves_per_tick, 1);
        assert_int_equal(c->balancer.max_migrate_mb_per_tick, 4096);
        assert_string_equal(c->balancer.kernel_numa_balancing, "keep");
        assert_int_equal(c->n_overrides, 0);
}

static void test_missing_optional_config_gives_defaults(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *conf = NULL;

        assert_int_equal(conf_load(f->path, false, &conf, &f->err), 0);
        assert_null(conf->file);
        assert_defaults(conf);
        conf_free(conf);
}

static void test_missing_required_config_is_an_error(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *sentinel = (struct vmtuned_conf *) 0x1, *conf = sentinel;
        _cleanup_free_ char *want = xasprintf("%s: cannot read: %s", f->path, strerror(ENOENT));

        assert_int_equal(conf_load(f->path, true, &conf, &f->err), -ENOENT);
        assert_ptr_equal(conf, sentinel);
        assert_string_equal(f->err.message, want);
}

static void test_empty_config_gives_defaults(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *conf = load_ok(f, "# nothing\n[vmtuned]\n[balancer]\n");

        assert_string_equal(conf->file, f->path);
        assert_defaults(conf);
        conf_free(conf);
}

static void test_every_option_fills_its_field(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *conf = load_ok(f,
                "[vmtuned]\n"
                "profile = throughput.v2\n"
                "log_level = debug\n"
                "libvirt_uri = qemu+ssh://root@host/system\n"
                "exclude = test-*, !test-db,db?\n"
                "control_group = vmtune\n"
                "metrics_file = /var/lib/prometheus/node-exporter/vmtuned.prom\n"
                "[balancer]\n"
                "enabled = No\n"
                "interval = 3600\n"
                "min_nr_running_diff = 7\n"
                "min_load_ratio = 1.5\n"
                "min_load_high = 0\n"
                "probation_ticks = 0\n"
                "cooldown_ticks = 100000\n"
                "max_moves_per_tick = 4\n"
                "max_migrate_mb_per_tick = 2048\n"
                "kernel_numa_balancing = keep\n");

        assert_string_equal(conf->profile, "throughput.v2");
        assert_int_equal(conf->log_level, LOG_DEBUG);
        assert_string_equal(conf->libvirt_uri, "qemu+ssh://root@host/system");
        assert_string_equal(conf->exclude[0], "test-*");
        assert_string_equal(conf->exclude[1], "!test-db");
        assert_string_equal(conf->exclude[2], "db?");
        assert_null(conf->exclude[3]);
        assert_string_equal(conf->control_group, "vmtune");
        assert_string_equal(conf->metrics_file, "/var/lib/prometheus/node-exporter/vmtuned.prom");
        assert_false(conf->balancer.enabled);
        assert_int_equal(conf->balancer.interval_sec, 3600);
        assert_int_equal(conf->balancer.min_nr_running_diff, 7);
        assert_true(conf->balancer.min_load_ratio == 1.5);
        assert_true(conf->balancer.min_load_high == 0.0);
        assert_int_equal(conf->balancer.probation_ticks, 0);
        assert_int_equal(conf->balancer.cooldown_ticks, 100000);
        assert_int_equal(conf->balancer.max_moves_per_tick, 4);
        assert_int_equal(conf->balancer.max_migrate_mb_per_tick, 2048);
        assert_string_equal(conf->balancer.kernel_numa_balancing, "keep");
        conf_free(conf);
}

/* Debian's inih cut lines at 200 bytes; continuation lines carry a long list. */
static void test_a_thirty_name_exclude_over_continuation_lines(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *text = xstrdup("[vmtuned]\nexclude = build-server-00\n");
        struct vmtuned_conf *conf;
        size_t n = 0;

        for (int i = 1; i < 30; i++) {
                char *more = xasprintf("%s    build-server-%02d%s\n", text, i, i % 2 && i < 29 ? "," : "");

                free(text);
                text = more;
        }
        text = strcat(xreallocarray(text, strlen(text) + 64, 1), "[sysctl]\nnet.ipv4.tcp_rmem = 4096\n  87380 6291456\n");
        conf = load_ok(f, text);
        for (; conf->exclude[n]; n++) {
                char want[32];

                snprintf(want, sizeof(want), "build-server-%02zu", n);
                assert_string_equal(conf->exclude[n], want);
        }
        assert_int_equal(n, 30);
        assert_int_equal(conf->n_overrides, 1);
        assert_string_equal(conf->overrides[0].value, "4096 87380 6291456");
        conf_free(conf);
}

static void test_duplicate_key_last_wins(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *conf = load_ok(f, "[vmtuned]\nprofile = a\nexclude = x\n"
                                               "[balancer]\ninterval = 7\n"
                                               "[vmtuned]\nprofile = b\nexclude =\ncontrol_group =\n");

        assert_string_equal(conf->profile, "b");
        assert_null(conf->exclude[0]);
        assert_null(conf->control_group);
        assert_int_equal(conf->balancer.interval_sec, 7);
        conf_free(conf);
}

static void test_overrides_are_stored_with_file_and_line(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *conf = load_ok(f, "[vmtuned]\nprofile = x\n"
                                               "[sysctl]\nvm.swappiness = 10\nvm.dirty_ratio = 5\n"
                                               "[ksm]\nrun = 1\n"
                                               "[disk]\ndevices = vd*\nscheduler = none\n"
                                               "[sysctl]\nvm.swappiness = 20\n");

        assert_int_equal(conf->n_overrides, 5);
        assert_string_equal(conf->overrides[0].section, "sysctl");
        assert_string_equal(conf->overrides[0].key, "vm.swappiness");
        assert_string_equal(conf->overrides[0].value, "20");
        assert_int_equal(conf->overrides[0].line, 12);
        assert_string_equal(conf->overrides[0].file, f->path);
        assert_string_equal(conf->overrides[2].section, "ksm");
        assert_string_equal(conf->overrides[2].value, "1");
        assert_int_equal(conf->overrides[2].line, 7);
        assert_string_equal(conf->overrides[4].key, "scheduler");
        conf_free(conf);
}

static void test_override_errors_read_like_profile_errors(void **state)
{
        struct fixture *f = *state;

        load_fails(f, "[ksm]\n\nrun = 5\n", "3: [ksm] run: 5 is out of range (allowed: 0..2)");
        load_fails(f, "[sysctl]\nnet/ipv4/ip_forward = 1\n",
                   "2: [sysctl] net/ipv4/ip_forward: invalid sysctl key "
                   "(allowed: dot-separated names of letters, digits, '_' and '-')");
        load_fails(f, "[disk]\ndevices = ../sda\n",
                   "2: [disk] devices: '../sda' is not valid (allowed: comma separated globs of "
                   "/sys/block names (no '/' or '..'), '!' negates)");
        load_fails(f, "[vm]\ntransparent_hugepages = yes\n",
                   "2: [vm] transparent_hugepages: 'yes' is not a choice (allowed: always, madvise, never)");
}

static void test_errors_name_file_line_and_key(void **state)
{
        struct fixture *f = *state;

        load_fails(f, "[balancer]\ninterval = 0\n",
                   "2: [balancer] interval: 0 is out of range (allowed: 1..3600)");
        load_fails(f, "[balancer]\nmin_load_ratio = 0.5\n",
                   "2: [balancer] min_load_ratio: 0.5 is out of range (allowed: 1.0..100.0)");
        load_fails(f, "[balancer]\nmin_load_high = nan\n",
                   "2: [balancer] min_load_high: 'nan' is not a number (allowed: 0.0..1000.0)");
        load_fails(f, "[balancer]\nenabled = maybe\n",
                   "2: [balancer] enabled: 'maybe' is not a boolean "
                   "(allowed: yes, no, true, false, on, off, 1, 0)");
        load_fails(f, "[balancer]\nintervall = 5\n",
                   "2: [balancer] intervall: unknown key (allowed: enabled, interval, min_nr_running_diff, "
                   "min_load_ratio, min_load_high, probation_ticks, cooldown_ticks, max_moves_per_tick, "
                   "max_migrate_mb_per_tick, idle_floor, kernel_numa_balancing)");
        load_fails(f, "[balancer]\nkernel_numa_balancing = auto\n",
                   "2: [balancer] kernel_numa_balancing: 'auto' is not a choice (allowed: off, on, keep)");
        load_fails(f, "[vmtuned]\nlog_level = verbose\n",
                   "2: [vmtuned] log_level: 'verbose' is not a choice "
                   "(allowed: err, warning, notice, info, debug)");
        load_fails(f, "[vmtuned]\nprofile = ../../etc/shadow\n",
                   "2: [vmtuned] profile: '../../etc/shadow' is not valid "
                   "(allowed: a profile name (vmtunectl profile list))");
        load_fails(f, "[vmtuned]\nprofile =\n",
                   "2: [vmtuned] profile: empty value (allowed: a profile name (vmtunectl profile list))");
        load_fails(f, "[vmtuned]\ncontrol_group = -wheel\n",
                   "2: [vmtuned] control_group: '-wheel' is not valid (allowed: a group name, or empty for none)");
        /* The daemon writes FILE.tmp next to it: a relative path would
         * depend on the working directory, a trailing '/' names no file. */
        load_fails(f, "[vmtuned]\nmetrics_file = vmtuned.prom\n",
                   "2: [vmtuned] metrics_file: 'vmtuned.prom' is not valid "
                   "(allowed: an absolute file path, or empty for none)");
        load_fails(f, "[vmtuned]\nmetrics_file = /var/lib/prometheus/\n",
                   "2: [vmtuned] metrics_file: '/var/lib/prometheus/' is not valid "
                   "(allowed: an absolute file path, or empty for none)");
        load_fails(f, "[vmtuned]\nexclude = a,,b\n",
                   "2: [vmtuned] exclude: empty item in 'a,,b' "
                   "(allowed: comma separated domain name globs, '!' negates, or empty for none)");
        load_fails(f, "[main]\nsummary = x\n",
                   "1: [main]: unknown section (allowed: vmtuned, balancer, sysctl, vm, ksm, disk, cpu, hugepages)");
        load_fails(f, "[vmtuned]\nprofile = a\nbogus\n", "3: expected 'key = value' or '[section]'");
}

/* Issue 12, input policy: keys, values and section names are UTF-8 text
 * without control characters; the error names file, line and key, and
 * shows the bad bytes escaped. */
static void test_text_not_utf8_or_with_control_characters_is_refused(void **state)
{
        struct fixture *f = *state;

        load_fails(f, "[vmtuned]\nprofile = a\n[sysctl]\nvm.swappiness = 1\xff\xfe\n",
                   "4: [sysctl] vm.swappiness: invalid UTF-8 byte 0xff at byte 2 of '1\\xff\\xfe' "
                   "(allowed: UTF-8 text without control characters; tab in a value)");
        load_fails(f, "[vmtuned]\nprof\xc0\xafile = a\n",
                   "2: [vmtuned] prof\\xc0\\xafile: invalid UTF-8 byte 0xc0 at byte 5 of the key "
                   "(allowed: UTF-8 text without control characters)");
        load_fails(f, "[vmtuned]\nprofile = a\x1b[31mred\n",
                   "2: [vmtuned] profile: control character U+001B at byte 2 of 'a\\x1b[31mred' "
                   "(allowed: UTF-8 text without control characters; tab in a value)");
        load_fails(f, "[vmtuned]\nlibvirt_uri = qemu:///system\xc2\x85\n",
                   "2: [vmtuned] libvirt_uri: control character U+0085 at byte 15 of 'qemu:///system\\xc2\\x85' "
                   "(allowed: UTF-8 text without control characters; tab in a value)");
        load_fails(f, "\n[sysc\xedtl]\n",
                   "2: [sysc\\xedtl]: invalid UTF-8 byte 0xed at byte 5 of the section name "
                   "(allowed: UTF-8 text without control characters)");
        load_fails(f, "[sysctl]\nvm.swap\tpiness = 1\n",
                   "2: [sysctl] vm.swap\\x09piness: control character U+0009 at byte 8 of the key "
                   "(allowed: UTF-8 text without control characters)");
}

static void test_tab_inside_a_value_and_utf8_in_comments_are_accepted(void **state)
{
        struct fixture *f = *state;
        struct vmtuned_conf *conf = load_ok(f, "# caf\xc3\xa9, Latin-1 caf\xe9 in a comment\n"
                                               "[sysctl]\nnet.ipv4.tcp_rmem = 4096\t87380\t6291456\n");

        assert_string_equal(conf->overrides[0].value, "4096\t87380\t6291456");
        conf_free(conf);
}

/* A key given twice in one section: an error naming both lines. A later
 * section of the same name may override it (test_duplicate_key_last_wins). */
static void test_key_given_twice_in_a_section_names_both_lines(void **state)
{
        struct fixture *f = *state;

        load_fails(f, "[vmtuned]\nprofile = a\n\n# changed my mind\nprofile = b\n",
                   "5: key profile given twice in [vmtuned]: lines 2 and 5 "
                   "(once per section; a later section or file may override it)");
        load_fails(f, "[vmtuned]\nprofile = a\n[sysctl]\nvm.swappiness = 10\nvm.dirty_ratio = 5\n"
                      "vm.swappiness = 20\n",
                   "6: key vm.swappiness given twice in [sysctl]: lines 4 and 6 "
                   "(once per section; a later section or file may override it)");
}

static void test_option_table_defaults_pass_their_own_checks(void **state)
{
        size_t n = 0;

        for (const struct conf_option *o = conf_options; o->key; o++, n++) {
                struct conf_error err = {};

                assert_non_null(o->help);
                assert_true(streq(o->section, "vmtuned") || streq(o->section, "balancer"));
                if (o->default_value && option_check_value(o, o->default_value, &err) < 0)
                        fail_msg("%s", err.message);
        }
        assert_int_equal(n, 17);
}

static void test_list_options_names_every_option_and_key(void **state)
{
        char *out = NULL;
        size_t size = 0, lines = 0, n_keys = 0;
        FILE *m = open_memstream(&out, &size);

        conf_list_options(m);
        fclose(m);
        for (const char *c = out; *c; c++)
                lines += *c == '\n';
        for (const struct setting_key *k = profile_keys; k->section; k++)
                n_keys++;
        assert_int_equal(lines, 17 + 2 + n_keys);
        assert_non_null(strstr(out, "vmtuned profile\n"));
        assert_non_null(strstr(out, "balancer kernel_numa_balancing\n"));
        assert_non_null(strstr(out, "main include\n"));
        assert_non_null(strstr(out, "ksm advisor_target_scan_time\n"));
        assert_non_null(strstr(out, "disk devices\n"));
        free(out);
}

static char *example(void)
{
        char *out = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&out, &size);

        conf_write_example(m);
        fclose(m);
        return out;
}

static void test_example_config_matches_committed_file(void **state)
{
        char *want = example();
        char *have = tl_read(tl_srcdir(), "systemd/vmtuned.conf");
        bool same = have && streq(have, want);

        if (!have)
                print_error("cannot read %s/vmtuned.conf (set VMTUNED_SRCDIR)\n", tl_srcdir());
        else if (!same)
                print_error("systemd/vmtuned.conf differs from conf_write_example(); regenerate it. Expected:\n%s", want);
        free(want);
        free(have);
        assert_true(same);
}

/* Uncomment every "# key = default" line: the result must load and give
 * the defaults, so the example never shows a value the parser refuses. */
static void test_example_config_with_defaults_uncommented_loads(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *text = example();
        struct vmtuned_conf *conf;
        char *line = text;

        while (line && *line) {
                char *eol = strchr(line, '\n');
                const char *eq = strstr(line, " =");

                /* Options only: the sample override section stays commented. */
                if (startswith(line, "# ") && eq && (!eol || eq < eol) && !strstr(line, "Local overrides")) {
                        bool is_option = false;

                        for (const struct conf_option *o = conf_options; o->key; o++)
                                if (strncmp(line + 2, o->key, strlen(o->key)) == 0 &&
                                    line[2 + strlen(o->key)] == ' ')
                                        is_option = true;
                        if (is_option)
                                line[0] = line[1] = ' ';
                }
                line = eol ? eol + 1 : NULL;
        }
        conf = load_ok(f, text);
        assert_defaults(conf);
        conf_free(conf);
}

static int last_entry_section(void *userdata, const char *section, const char *key, const char *value,
                              unsigned line, struct conf_error *err)
{
        snprintf(userdata, 128, "%s", section);
        return 0;
}

/* inih keeps 49 characters of a section name; found by tests/fuzz. */
static void test_reader_gives_entries_the_whole_section_name(void **state)
{
        const char *name = "a-section-name-longer-than-the-49-characters-inih-keeps";
        char seen[128] = "", *text = xasprintf("[%s]\nkey = value\n", name);
        const struct conf_parser p = { .file = "long.conf", .userdata = seen, .entry = last_entry_section };
        struct conf_error err;

        assert_int_equal(conf_parse_text(text, &p, &err), 0);
        assert_string_equal(seen, name);
        free(text);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
                T(test_missing_optional_config_gives_defaults),
                T(test_missing_required_config_is_an_error),
                T(test_empty_config_gives_defaults),
                T(test_every_option_fills_its_field),
                T(test_a_thirty_name_exclude_over_continuation_lines),
                T(test_duplicate_key_last_wins),
                T(test_overrides_are_stored_with_file_and_line),
                T(test_override_errors_read_like_profile_errors),
                T(test_errors_name_file_line_and_key),
                T(test_option_table_defaults_pass_their_own_checks),
                T(test_list_options_names_every_option_and_key),
                T(test_example_config_matches_committed_file),
                T(test_example_config_with_defaults_uncommented_loads),
                T(test_reader_gives_entries_the_whole_section_name),
                T(test_text_not_utf8_or_with_control_characters_is_refused),
                T(test_tab_inside_a_value_and_utf8_in_comments_are_accepted),
                T(test_key_given_twice_in_a_section_names_both_lines),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
