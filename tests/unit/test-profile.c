/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Profiles: the search path, include resolution, the syntax we accept, and
 * every kind of error naming file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config/ini.h"
#include "config/option.h"
#include "base/kfile.h"
#include "base/util.h"
#include "config/profile.h"
#include "testlib.h"

struct fixture {
        char *dir;
        char *usr, *etc;          /* the two directories of the search path */
        const char *dirs[2];
        struct conf_error err;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-profile");
        f->usr = xasprintf("%s/usr", f->dir);
        f->etc = xasprintf("%s/etc", f->dir);
        mkdir(f->usr, 0755);
        mkdir(f->etc, 0755);
        f->dirs[0] = f->usr;
        f->dirs[1] = f->etc;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tl_rm_rf(f->dir);
        free(f->dir);
        free(f->usr);
        free(f->etc);
        free(f);
        return 0;
}

/* Write usr/NAME.conf. */
static void put(struct fixture *f, const char *name, const char *content)
{
        _cleanup_free_ char *rel = xasprintf("usr/%s.conf", name);

        tl_write(f->dir, rel, content);
}

/* Load name, expecting an error: returns it, checks *ret stayed untouched. */
static int load_fails(struct fixture *f, const char *name)
{
        struct profile *sentinel = (struct profile *) 0x1, *p = sentinel;
        int r = profile_load(f->dirs, 2, name, &p, &f->err);

        assert_true(r < 0);
        assert_ptr_equal(p, sentinel);
        return r;
}

static struct profile *load_ok(struct fixture *f, const char *name)
{
        struct profile *p = NULL;
        int r = profile_load(f->dirs, 2, name, &p, &f->err);

        if (r < 0)
                fail_msg("loading %s: %s", name, f->err.message);
        assert_non_null(p);
        return p;
}

/* The error of loading usr/NAME.conf must read exactly "usr/NAME.conf:" + rest. */
static void assert_error(struct fixture *f, const char *file, const char *rest)
{
        _cleanup_free_ char *want = xasprintf("%s/%s.conf:%s", f->usr, file, rest);

        assert_string_equal(f->err.message, want);
}

static void assert_setting(const struct profile *p, const char *section, const char *key,
                           const char *value, const char *file_suffix, unsigned line)
{
        const struct setting *s = profile_get(p, section, key);

        assert_non_null(s);
        assert_string_equal(s->value, value);
        assert_true(strlen(s->file) >= strlen(file_suffix));
        assert_string_equal(s->file + strlen(s->file) - strlen(file_suffix), file_suffix);
        assert_int_equal(s->line, line);
}

static void test_include_three_levels_later_definitions_win(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "base", "[sysctl]\nvm.a = 1\nvm.b = 1\nvm.c = 1\n");
        put(f, "mid", "[main]\ninclude = base\n[sysctl]\nvm.b = 2\nvm.c = 2\n");
        put(f, "top", "[sysctl]\nvm.c = 3\n[main]\nsummary = The top\ninclude = mid\n");
        p = load_ok(f, "top");
        assert_string_equal(p->name, "top");
        assert_string_equal(p->summary, "The top");
        assert_setting(p, "sysctl", "vm.a", "1", "/usr/base.conf", 2);
        assert_setting(p, "sysctl", "vm.b", "2", "/usr/mid.conf", 4);
        /* The file's own settings win even when written before include=. */
        assert_setting(p, "sysctl", "vm.c", "3", "/usr/top.conf", 2);
        /* First-definition order: base's keys come first. */
        assert_int_equal(p->n_settings, 3);
        assert_string_equal(p->settings[0].key, "vm.a");
        assert_string_equal(p->settings[2].key, "vm.c");
        profile_free(p);
}

/* Issue 12, input policy: a key given twice in one section of a profile is
 * an error naming both lines; the included file's error names that file. */
static void test_key_given_twice_in_a_section_names_both_lines(void **state)
{
        struct fixture *f = *state;

        put(f, "twice", "[main]\nsummary = x\n[sysctl]\nvm.swappiness = 10\nvm.dirty_ratio = 5\n"
                        "# later, someone appends\nvm.swappiness = 30\n");
        assert_int_equal(load_fails(f, "twice"), -EINVAL);
        assert_error(f, "twice", "7: key vm.swappiness given twice in [sysctl]: lines 4 and 7 "
                                 "(once per section; a later section or file may override it)");
        put(f, "twice", "[main]\nsummary = x\nsummary = y\n");
        load_fails(f, "twice");
        assert_error(f, "twice", "3: key summary given twice in [main]: lines 2 and 3 "
                                 "(once per section; a later section or file may override it)");
        /* Included: the message names the included file and its lines. */
        put(f, "twice", "[ksm]\nrun = 1\nrun = 0\n");
        put(f, "inc", "[main]\ninclude = twice\n");
        load_fails(f, "inc");
        assert_error(f, "twice", "3: key run given twice in [ksm]: lines 2 and 3 "
                                 "(once per section; a later section or file may override it)");
}

/* Overriding is what a later file does: the key in the including profile
 * and in a second include wins over the first, without an error. */
static void test_a_later_file_overriding_a_key_is_not_given_twice(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "one", "[sysctl]\nvm.swappiness = 1\n");
        put(f, "two", "[sysctl]\nvm.swappiness = 2\n");
        put(f, "top", "[main]\ninclude = one, two\n[sysctl]\nvm.dirty_ratio = 3\n");
        p = load_ok(f, "top");
        assert_setting(p, "sysctl", "vm.swappiness", "2", "/usr/two.conf", 2);
        profile_free(p);
        put(f, "top", "[main]\ninclude = one, two\n[sysctl]\nvm.swappiness = 3\n");
        p = load_ok(f, "top");
        assert_setting(p, "sysctl", "vm.swappiness", "3", "/usr/top.conf", 4);
        profile_free(p);
}

static void test_invalid_utf8_in_an_included_profile_names_its_file_line_and_key(void **state)
{
        struct fixture *f = *state;

        put(f, "bad", "[main]\nsummary = fine\n[sysctl]\nvm.swappiness = \xff\xfe\n");
        put(f, "top", "[main]\ninclude = bad\n");
        load_fails(f, "top");
        assert_error(f, "bad", "4: [sysctl] vm.swappiness: invalid UTF-8 byte 0xff at byte 1 of '\\xff\\xfe' "
                               "(allowed: UTF-8 text without control characters; tab in a value)");
        put(f, "bad", "[main]\nsummary = caf\xe9\n");
        load_fails(f, "bad");
        assert_error(f, "bad", "2: [main] summary: invalid UTF-8 byte 0xe9 at byte 4 of 'caf\\xe9' "
                               "(allowed: UTF-8 text without control characters; tab in a value)");
}

static void test_later_include_in_list_wins_over_earlier(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "x", "[ksm]\nrun = 1\nsleep_millisecs = 10\n");
        put(f, "y", "[ksm]\nrun = 0\n");
        put(f, "both", "[main]\ninclude = x, y\n");
        p = load_ok(f, "both");
        assert_setting(p, "ksm", "run", "0", "/y.conf", 2);
        assert_setting(p, "ksm", "sleep_millisecs", "10", "/x.conf", 3);
        assert_null(p->summary);
        profile_free(p);
}

static void test_include_cycle_is_rejected_with_file_and_line(void **state)
{
        struct fixture *f = *state;

        put(f, "a", "[main]\ninclude = b\n");
        put(f, "b", "[main]\nsummary = b\ninclude = a\n");
        assert_int_equal(load_fails(f, "a"), -EINVAL);
        assert_error(f, "b", "3: [main] include: include cycle: a -> b -> a");
}

static void test_self_include_is_a_cycle(void **state)
{
        struct fixture *f = *state;

        put(f, "self", "[main]\ninclude = self\n");
        assert_int_equal(load_fails(f, "self"), -EINVAL);
        assert_error(f, "self", "2: [main] include: include cycle: self -> self");
}

static void test_diamond_include_is_not_a_cycle(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "d", "[sysctl]\nvm.d = 1\n");
        put(f, "l", "[main]\ninclude = d\n");
        put(f, "r", "[main]\ninclude = d\n");
        put(f, "top", "[main]\ninclude = l,r\n");
        p = load_ok(f, "top");
        assert_setting(p, "sysctl", "vm.d", "1", "/d.conf", 2);
        profile_free(p);
}

static void test_missing_include_names_the_including_line(void **state)
{
        struct fixture *f = *state;

        put(f, "lonely", "# comment\n\n[main]\ninclude = nowhere\n");
        assert_int_equal(load_fails(f, "lonely"), -EINVAL);
        assert_true(startswith(f->err.message, f->usr));
        assert_non_null(strstr(f->err.message, "/lonely.conf:4: [main] include: profile 'nowhere' not found"));
}

static void test_missing_profile_is_enoent(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(load_fails(f, "ghost"), -ENOENT);
        assert_non_null(strstr(f->err.message, "profile 'ghost' not found"));
}

static void test_invalid_profile_names_are_rejected(void **state)
{
        struct fixture *f = *state;

        assert_true(profile_name_valid("virtual-host"));
        assert_true(profile_name_valid("a.b_C-1"));
        assert_false(profile_name_valid(""));
        assert_false(profile_name_valid(".hidden"));
        assert_false(profile_name_valid("../etc/passwd"));
        assert_false(profile_name_valid("a/b"));
        assert_false(profile_name_valid("a b"));
        tl_write(f->dir, "secret.conf", "[sysctl]\nvm.x = 1\n");
        assert_int_equal(load_fails(f, "../secret"), -EINVAL);
        put(f, "inc", "[main]\ninclude = ../secret\n");
        assert_int_equal(load_fails(f, "inc"), -EINVAL);
        assert_non_null(strstr(f->err.message, "inc.conf:2: [main] include: '../secret' is not valid"));
}

static void test_etc_overrides_usr_share(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *etc_file = xasprintf("%s/p.conf", f->etc);
        struct profile *p;

        put(f, "p", "[sysctl]\nvm.x = usr\n");
        put(f, "helper", "[sysctl]\nvm.h = usr\n");
        tl_write(f->dir, "etc/p.conf", "[main]\ninclude = helper\n[sysctl]\nvm.x = etc\n");
        p = load_ok(f, "p");
        assert_string_equal(p->file, etc_file);
        assert_setting(p, "sysctl", "vm.x", "etc", "/etc/p.conf", 4);
        /* Includes are looked up on the same path: helper only in usr. */
        assert_setting(p, "sysctl", "vm.h", "usr", "/usr/helper.conf", 2);
        profile_free(p);
}

static void test_unknown_section_is_rejected(void **state)
{
        struct fixture *f = *state;

        put(f, "s", "[main]\nsummary = x\n\n[tuned]\n");
        load_fails(f, "s");
        assert_error(f, "s", "4: [tuned]: unknown section (allowed: main, sysctl, vm, ksm, disk, cpu, hugepages)");
}

static void test_unknown_key_is_rejected(void **state)
{
        struct fixture *f = *state;

        put(f, "k", "[vm]\ntransparent_hugepages = never\nhugepages = 5\n");
        load_fails(f, "k");
        assert_true(startswith(strchr(f->err.message, ':') + 1, "3: [vm] hugepages: unknown key (allowed: "
                               "transparent_hugepages, transparent_hugepage_defrag,"));
        put(f, "m", "[main]\nsumary = typo\n");
        load_fails(f, "m");
        assert_error(f, "m", "2: [main] sumary: unknown key (allowed: summary, include)");
}

static void test_out_of_range_is_rejected(void **state)
{
        struct fixture *f = *state;

        put(f, "r", "[ksm]\n; KSM\nrun = 3\n");
        load_fails(f, "r");
        assert_error(f, "r", "3: [ksm] run: 3 is out of range (allowed: 0..2)");
        put(f, "r", "[ksm]\nmax_page_sharing = 1\n");
        load_fails(f, "r");
        assert_error(f, "r", "2: [ksm] max_page_sharing: 1 is out of range (allowed: 2..2147483647)");
        put(f, "r", "[ksm]\nadvisor_max_cpu = lots\n");
        load_fails(f, "r");
        assert_error(f, "r", "2: [ksm] advisor_max_cpu: 'lots' is not an integer (allowed: 1..100)");
}

static void test_not_a_choice_is_rejected(void **state)
{
        struct fixture *f = *state;

        put(f, "c", "[vm]\ntransparent_hugepages = sometimes\n");
        load_fails(f, "c");
        assert_error(f, "c", "2: [vm] transparent_hugepages: 'sometimes' is not a choice "
                             "(allowed: always, madvise, never)");
        put(f, "c", "[vm]\ntransparent_hugepage_defrag = defer+madvise\ntransparent_hugepage_shmem = Always\n");
        load_fails(f, "c");
        assert_error(f, "c", "3: [vm] transparent_hugepage_shmem: 'Always' is not a choice "
                             "(allowed: always, within_size, advise, never, deny, force)");
}

static void test_sysctl_key_rules(void **state)
{
        assert_true(profile_sysctl_key_valid("vm.swappiness"));
        assert_true(profile_sysctl_key_valid("net.ipv4.conf.all.rp_filter"));
        assert_true(profile_sysctl_key_valid("net.ipv4.tcp_rmem"));
        assert_true(profile_sysctl_key_valid("a-b.c_D9"));
        assert_true(profile_sysctl_key_valid("kernel"));
        assert_false(profile_sysctl_key_valid(""));
        assert_false(profile_sysctl_key_valid("net/ipv4/ip_forward"));
        assert_false(profile_sysctl_key_valid("vm..swappiness"));
        assert_false(profile_sysctl_key_valid(".."));
        assert_false(profile_sysctl_key_valid(".vm.swappiness"));
        assert_false(profile_sysctl_key_valid("vm.swappiness."));
        assert_false(profile_sysctl_key_valid("vm.swap piness"));
        assert_false(profile_sysctl_key_valid("vm.*"));
}

static void test_bad_sysctl_keys_are_rejected(void **state)
{
        struct fixture *f = *state;
        static const char *const bad[] = { "net/ipv4/ip_forward", "vm..x", ".vm.x", "vm.x.", "../../etc/x" };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                _cleanup_free_ char *text = xasprintf("[sysctl]\nvm.ok = 1\n%s = 1\n", bad[i]);
                _cleanup_free_ char *want = xasprintf("3: [sysctl] %s: invalid sysctl key (allowed: "
                                                      "dot-separated names of letters, digits, '_' and '-')",
                                                      bad[i]);

                put(f, "sk", text);
                assert_int_equal(load_fails(f, "sk"), -EINVAL);
                assert_error(f, "sk", want);
        }
        /* An empty key is a syntax error of its own. */
        put(f, "sk", "[sysctl]\n= 1\n");
        load_fails(f, "sk");
        assert_error(f, "sk", "2: missing key before '='");
}

static void test_sysctl_values(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "v", "[sysctl]\nnet.ipv4.tcp_rmem = 4096 87380 6291456\nvm.max_map_count = >262144\n");
        p = load_ok(f, "v");
        assert_setting(p, "sysctl", "net.ipv4.tcp_rmem", "4096 87380 6291456", "/v.conf", 2);
        assert_setting(p, "sysctl", "vm.max_map_count", ">262144", "/v.conf", 3);
        profile_free(p);
        put(f, "v", "[sysctl]\nvm.x =\n");
        load_fails(f, "v");
        assert_true(startswith(strchr(f->err.message, ':') + 1, "2: [sysctl] vm.x: empty value (allowed: "));
        put(f, "v", "[sysctl]\nvm.x = >lots\n");
        load_fails(f, "v");
        assert_true(startswith(strchr(f->err.message, ':') + 1,
                               "2: [sysctl] vm.x: '>' must be followed by an integer"));
        put(f, "v", "[sysctl]\nvm.x = a\033b\n");
        load_fails(f, "v");
        assert_non_null(strstr(f->err.message, "control character"));
}

static void test_device_glob_rules(void **state)
{
        assert_true(profile_device_glob_valid("sd*"));
        assert_true(profile_device_glob_valid("vd[a-c]"));
        assert_true(profile_device_glob_valid("!sda"));
        assert_true(profile_device_glob_valid("nvme*n1"));
        assert_false(profile_device_glob_valid(""));
        assert_false(profile_device_glob_valid("!"));
        assert_false(profile_device_glob_valid("../x"));
        assert_false(profile_device_glob_valid(".."));
        assert_false(profile_device_glob_valid("a/b"));
        assert_false(profile_device_glob_valid("!../sda"));
        assert_false(profile_device_glob_valid("sd a"));
}

static void test_bad_device_globs_are_rejected(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "d", "[disk]\ndevices = sd*, ../x\n");
        load_fails(f, "d");
        assert_error(f, "d", "2: [disk] devices: '../x' is not valid (allowed: comma separated globs of "
                             "/sys/block names (no '/' or '..'), '!' negates)");
        put(f, "d", "[disk]\ndevices = a/b\n");
        load_fails(f, "d");
        assert_non_null(strstr(f->err.message, "d.conf:2: [disk] devices: 'a/b' is not valid"));
        put(f, "d", "[disk]\ndevices = sd*,,vd*\n");
        load_fails(f, "d");
        assert_non_null(strstr(f->err.message, "d.conf:2: [disk] devices: empty item"));
        put(f, "d", "[disk]\ndevices =\n");
        load_fails(f, "d");
        assert_non_null(strstr(f->err.message, "d.conf:2: [disk] devices: empty value"));

        put(f, "d", "[disk]\ndevices = sd*, vd*, !sda\nscheduler = mq-deadline,none\n"
                    "read_ahead_kb = >4096\nnr_requests = 256\n");
        p = load_ok(f, "d");
        assert_setting(p, "disk", "devices", "sd*, vd*, !sda", "/d.conf", 2);
        assert_setting(p, "disk", "read_ahead_kb", ">4096", "/d.conf", 4);
        profile_free(p);
}

static void test_disk_scheduler_and_greater_than(void **state)
{
        struct fixture *f = *state;

        put(f, "s", "[disk]\nscheduler = mq-deadline,MQ\n");
        load_fails(f, "s");
        assert_error(f, "s", "2: [disk] scheduler: 'MQ' is not valid "
                             "(allowed: comma separated scheduler names ([a-z0-9_-]))");
        put(f, "s", "[disk]\nread_ahead_kb = >x\n");
        load_fails(f, "s");
        assert_non_null(strstr(f->err.message, "[disk] read_ahead_kb: '>x' is not an integer"));
        /* ">N" only where tuned's "only if greater" makes sense. */
        put(f, "s", "[ksm]\npages_to_scan = >100\n");
        load_fails(f, "s");
        assert_non_null(strstr(f->err.message, "[ksm] pages_to_scan: '>100' is not an integer"));
}

static void test_syntax_comments_indentation_and_line_numbers(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "syn", "# tuned-style comment\n"
                      "; ini-style comment\n"
                      "[sysctl]   # section comment\n"
                      "   vm.swappiness = 10   # why\n"
                      "vm.a = 1 ; why\n"
                      "vm.b = x#y\n"
                      "\r\n"
                      "vm.c = 5\r\n"
                      "[sysctl]\n"
                      "vm.a = 2\n");
        p = load_ok(f, "syn");
        /* Indented with an "=": an ordinary line, not a continuation. */
        assert_setting(p, "sysctl", "vm.swappiness", "10", "/syn.conf", 4);
        /* Repeated in a later section of the same name: last wins, with its line. */
        assert_setting(p, "sysctl", "vm.a", "2", "/syn.conf", 10);
        assert_setting(p, "sysctl", "vm.b", "x#y", "/syn.conf", 6);
        assert_setting(p, "sysctl", "vm.c", "5", "/syn.conf", 8);
        profile_free(p);
}

static void test_byte_order_mark_and_missing_final_newline(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "bom", "\xEF\xBB\xBF[sysctl]\nvm.a = 1\nvm.b = 2");
        p = load_ok(f, "bom");
        assert_setting(p, "sysctl", "vm.a", "1", "/bom.conf", 2);
        assert_setting(p, "sysctl", "vm.b", "2", "/bom.conf", 3);
        profile_free(p);
        tl_write(f->dir, "usr/nul.conf", "[sysctl]\nvm.a = 1\n");
        {
                _cleanup_free_ char *path = xasprintf("%s/nul.conf", f->usr);
                FILE *w = fopen(path, "a");

                assert_non_null(w);
                fputc('\0', w);
                fclose(w);
        }
        load_fails(f, "nul");
        assert_non_null(strstr(f->err.message, "nul.conf: contains a NUL byte"));
}

static void test_syntax_errors_name_the_line(void **state)
{
        struct fixture *f = *state;

        /* Indented without a value before it: not a continuation. */
        put(f, "e", "[sysctl]\n    continued\n");
        load_fails(f, "e");
        assert_error(f, "e", "2: expected 'key = value' or '[section]'");
        put(f, "e", "[sysctl]\nvm.a = 1\n\n    continued\n");
        load_fails(f, "e");
        assert_error(f, "e", "4: expected 'key = value' or '[section]'");
        put(f, "e", "[sysctl]\nvm.a: 1\n");
        load_fails(f, "e");
        assert_error(f, "e", "2: expected 'key = value' or '[section]'");
        put(f, "e", "vm.a = 1\n");
        load_fails(f, "e");
        assert_error(f, "e", "1: 'key = value' before any [section]");
        put(f, "e", "\n[sysctl] junk\n");
        load_fails(f, "e");
        assert_error(f, "e", "2: expected '[section]'");
        put(f, "e", "[sysctl\n");
        load_fails(f, "e");
        assert_error(f, "e", "1: expected '[section]'");
}

static void test_tuned_key_names_are_aliases(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "tuned", "[disk]\nelevator = mq-deadline\nreadahead = >4096\n"
                        "[cpu]\ngovernor = performance|powersave\nenergy_perf_bias = performance\n"
                        "min_perf_pct = 100\nforce_latency = cstate.id_no_zero:3|70\n");
        p = load_ok(f, "tuned");
        assert_setting(p, "disk", "scheduler", "mq-deadline", "/tuned.conf", 2);
        assert_setting(p, "disk", "read_ahead_kb", ">4096", "/tuned.conf", 3);
        assert_null(profile_get(p, "disk", "elevator"));
        assert_setting(p, "cpu", "governor", "performance|powersave", "/tuned.conf", 5);
        assert_setting(p, "cpu", "force_latency", "cstate.id_no_zero:3|70", "/tuned.conf", 8);
        profile_free(p);
        /* tuned's readahead in 512-byte sectors */
        put(f, "tuned", "[disk]\nreadahead = 8192 s\n");
        p = load_ok(f, "tuned");
        assert_setting(p, "disk", "read_ahead_kb", "4096", "/tuned.conf", 2);
        profile_free(p);
        put(f, "tuned", "[disk]\nreadahead = lots\n");
        load_fails(f, "tuned");
        assert_non_null(strstr(f->err.message, "[disk] read_ahead_kb: 'lots' is not an integer"));
        put(f, "tuned", "[cpu]\nforce_latency = cstate.name:C1\n");
        load_fails(f, "tuned");
        assert_non_null(strstr(f->err.message, "[cpu] force_latency: 'cstate.name:C1'"));
        put(f, "tuned", "[hugepages]\nper_node = 120%\n");
        load_fails(f, "tuned");
        assert_non_null(strstr(f->err.message, "[hugepages] per_node: '120%'"));
}

static void test_long_line_is_read_whole_not_split(void **state)
{
        struct fixture *f = *state;
        char value[400];
        _cleanup_free_ char *text = NULL;
        struct profile *p;

        memset(value, '1', sizeof(value) - 1);
        value[sizeof(value) - 1] = '\0';
        /* inih (Debian's, 200 bytes) split it and parsed the rest as a line of its own. */
        text = xasprintf("[main]\nsummary = x\n[sysctl]\nvm.long = %s vm.evil = 1\n", value);
        put(f, "long", text);
        p = load_ok(f, "long");
        assert_null(profile_get(p, "sysctl", "vm.evil"));
        assert_int_equal(strlen(profile_get(p, "sysctl", "vm.long")->value), strlen(value) + strlen(" vm.evil = 1"));
        profile_free(p);
}

static void test_continuation_lines_join_lists_with_commas_and_text_with_spaces(void **state)
{
        struct fixture *f = *state;
        struct profile *p;

        put(f, "cont", "[disk]\n"
                       "devices = sd*,\n"
                       "    vd*   # virtio\n"
                       "    # a comment-only line ends the value\n"
                       "scheduler = mq-deadline\n"
                       "\tnone\n"
                       "[sysctl]\n"
                       "net.ipv4.tcp_rmem = 4096\n"
                       "  87380\n"
                       "  6291456\n"
                       "vm.a = 1\n"
                       "  [disk]\n"
                       "read_ahead_kb = 4096\n");
        p = load_ok(f, "cont");
        assert_setting(p, "disk", "devices", "sd*, vd*", "/cont.conf", 2);
        assert_setting(p, "disk", "scheduler", "mq-deadline, none", "/cont.conf", 5);
        assert_setting(p, "sysctl", "net.ipv4.tcp_rmem", "4096 87380 6291456", "/cont.conf", 8);
        assert_setting(p, "sysctl", "vm.a", "1", "/cont.conf", 11);
        assert_setting(p, "disk", "read_ahead_kb", "4096", "/cont.conf", 13);
        profile_free(p);
        /* an error in a continued value names the key's line */
        put(f, "cont", "[disk]\nscheduler = none,\n  BAD\n");
        load_fails(f, "cont");
        assert_error(f, "cont", "2: [disk] scheduler: 'BAD' is not valid "
                                "(allowed: comma separated scheduler names ([a-z0-9_-]))");
}

static void test_profile_list_is_sorted_and_unique(void **state)
{
        struct fixture *f = *state;
        char **names;

        put(f, "zeta", "");
        put(f, "alpha", "");
        put(f, "virtual-host", "");
        tl_write(f->dir, "etc/alpha.conf", "");
        tl_write(f->dir, "etc/mine.conf", "");
        tl_write(f->dir, "etc/.hidden.conf", "");
        tl_write(f->dir, "etc/notes.txt", "");
        tl_write(f->dir, "etc/dir.conf/x", "");
        names = profile_list(f->dirs, 2);
        assert_non_null(names);
        assert_string_equal(names[0], "alpha");
        assert_string_equal(names[1], "mine");
        assert_string_equal(names[2], "virtual-host");
        assert_string_equal(names[3], "zeta");
        assert_null(names[4]);
        option_list_free(names);
        /* A missing directory lists nothing, without failing. */
        names = profile_list((const char *const[]){ "/nonexistent/vmtuned" }, 1);
        assert_null(names[0]);
        option_list_free(names);
}

static void test_profile_set_replaces_in_place(void **state)
{
        struct profile p = {};

        profile_set(&p, &(struct setting){ .section = "sysctl", .key = "a", .value = "1", .file = "f", .line = 1 });
        profile_set(&p, &(struct setting){ .section = "sysctl", .key = "b", .value = "2", .file = "f", .line = 2 });
        profile_set(&p, &(struct setting){ .section = "sysctl", .key = "a", .value = "3", .file = "g", .line = 7 });
        assert_int_equal(p.n_settings, 2);
        assert_string_equal(p.settings[0].value, "3");
        assert_string_equal(p.settings[0].file, "g");
        assert_int_equal(p.settings[0].line, 7);
        assert_null(profile_get(&p, "vm", "a"));
        for (size_t i = 0; i < p.n_settings; i++)
                setting_clear(&p.settings[i]);
        free(p.settings);
}

static void test_key_table_is_consistent(void **state)
{
        size_t n = 0;

        for (const struct setting_key *k = profile_keys; k->section; k++, n++) {
                assert_non_null(k->check);
                assert_string_equal(k->check->section, k->section);
                assert_string_equal(k->check->key, k->key);
                assert_non_null(k->check->help);
                assert_ptr_equal(profile_key_lookup(k->section, k->key), k);
                if (streq(k->section, "disk") || streq(k->section, "hugepages") ||
                    (streq(k->section, "ksm") && !k->path) || (streq(k->section, "cpu") && !k->path)) {
                        /* [disk] is per device, [hugepages] per pool, most of
                         * [cpu] per CPU or policy; [ksm] mode=, ksm_interval=,
                         * ksm_threshold_percent=, unmerge_for_numa=, unmerge_on_stop=
                         * configure vmtuned's KSM module. */
                        assert_null(k->path);
                } else {
                        /* Relative, under the root prefix, no escapes, managed. */
                        assert_non_null(k->path);
                        assert_true(kfile_path_valid(k->path));
                        assert_true(kfile_path_managed(k->path));
                        assert_true(startswith(k->path, streq(k->section, "cpu") ? "sys/devices/system/cpu/"
                                                                                 : "sys/kernel/mm/"));
                }
        }
        assert_int_equal(n, 8 + 4 + 13 + 5 + 6 + 4);
        assert_null(profile_key_lookup("ksm", "mode")->path);
        assert_string_equal(profile_key_lookup("ksm", "run")->path, "sys/kernel/mm/ksm/run");
        assert_string_equal(profile_key_lookup("vm", "khugepaged_max_ptes_none")->path,
                            "sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none");
        assert_string_equal(profile_key_lookup("vm", "transparent_hugepage_shmem")->path,
                            "sys/kernel/mm/transparent_hugepage/shmem_enabled");
        assert_null(profile_key_lookup("sysctl", "vm.swappiness"));
        assert_null(profile_key_lookup("ksm", "nope"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
                T(test_include_three_levels_later_definitions_win),
                T(test_later_include_in_list_wins_over_earlier),
                T(test_include_cycle_is_rejected_with_file_and_line),
                T(test_self_include_is_a_cycle),
                T(test_diamond_include_is_not_a_cycle),
                T(test_missing_include_names_the_including_line),
                T(test_missing_profile_is_enoent),
                T(test_invalid_profile_names_are_rejected),
                T(test_etc_overrides_usr_share),
                T(test_unknown_section_is_rejected),
                T(test_unknown_key_is_rejected),
                T(test_out_of_range_is_rejected),
                T(test_not_a_choice_is_rejected),
                T(test_sysctl_key_rules),
                T(test_bad_sysctl_keys_are_rejected),
                T(test_sysctl_values),
                T(test_device_glob_rules),
                T(test_bad_device_globs_are_rejected),
                T(test_disk_scheduler_and_greater_than),
                T(test_syntax_comments_indentation_and_line_numbers),
                T(test_byte_order_mark_and_missing_final_newline),
                T(test_syntax_errors_name_the_line),
                T(test_long_line_is_read_whole_not_split),
                T(test_tuned_key_names_are_aliases),
                T(test_continuation_lines_join_lists_with_commas_and_text_with_spaces),
                T(test_profile_list_is_sorted_and_unique),
                T(test_profile_set_replaces_in_place),
                T(test_key_table_is_consistent),
                T(test_key_given_twice_in_a_section_names_both_lines),
                T(test_a_later_file_overriding_a_key_is_not_given_twice),
                T(test_invalid_utf8_in_an_included_profile_names_its_file_line_and_key),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
