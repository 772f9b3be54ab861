/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The operator's surface: the real vmtuned on a temporary fixture root,
 * driven by the real vmtunectl. status, profile list/show/switch, off,
 * reload, verify, their --json, their exit codes; and the documentation
 * (vmtunectl --help, the bash completion, the man pages) checked against
 * what the code implements. Nothing here touches the machine's /proc or /sys.
 * One concern, the operator's view end to end, in one file so that every
 * command runs against the same fixture kernel and profiles; it is long
 * because each test needs a daemon run. */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <iconv.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/commands.h"
#include "daemon/control.h"
#include "daemon/daemon.h"
#include "base/log.h"
#include "testlib.h"

static const struct tl_file kernel_files[] = {
        { "proc/sys/vm/swappiness", "60\n" },
        { "proc/sys/vm/dirty_ratio", "20\n" },
        { "proc/sys/vm/dirty_background_ratio", "10\n" },
        { "proc/sys/kernel/numa_balancing", "1\n" },
        { "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n" },
        { "sys/block/vda/queue/scheduler", "none [mq-deadline] kyber\n" },
};

/* test includes base, so "profile show" has settings from two files. */
static const char base_profile[] =
        "[main]\n"
        "summary = base of test\n"
        "[sysctl]\n"
        "vm.dirty_background_ratio = 5\n"
        "vm.no_such_knob = 1\n";

static const char test_profile[] =
        "[main]\n"
        "summary = fixture profile\n"
        "include = base\n"
        "[sysctl]\n"
        "vm.swappiness = 10\n"
        "vm.dirty_ratio = 40\n"
        "[vm]\n"
        "transparent_hugepages = always\n"
        "[disk]\n"
        "devices = vd*\n"
        "scheduler = none\n";

static const char other_profile[] =
        "[main]\n"
        "summary = only swappiness\n"
        "[sysctl]\n"
        "vm.swappiness = 30\n";

static const char broken_profile[] =
        "[main]\n"
        "include = nosuch\n";

static const char good_config[] =
        "[vmtuned]\n"
        "profile = test\n"
        "libvirt_uri = test:///default\n"
        "[balancer]\n"
        "kernel_numa_balancing = off\n";

/* The fixture kernel with an administrator's sysctl.d file, four profiles
 * (one broken), the good configuration, and the command line that runs
 * the daemon in the foreground on them; start() keeps its run in e->d. */
static int setup(void **state)
{
        struct tl_env *e = tl_env_setup("vmtuned-ctl");

        tl_write_files(e->root, kernel_files, ARRAY_SIZE(kernel_files));
        tl_write(e->root, "etc/sysctl.d/90-local.conf", "# the administrator's own\nvm.swappiness = 33\n");
        tl_write(e->profiles, "base.conf", base_profile);
        tl_write(e->profiles, "test.conf", test_profile);
        tl_write(e->profiles, "other.conf", other_profile);
        tl_write(e->profiles, "broken.conf", broken_profile);
        tl_write(e->dir, "vmtuned.conf", good_config);
        tl_env_set_argv(e, NULL, true);
        *state = e;
        return 0;
}

static void start(struct tl_env *e)
{
        tl_assert_daemon_starts(&e->d, e->argv);
}

static void stop(struct tl_env *e)
{
        assert_int_equal(tl_daemon_stop(&e->d, SIGTERM), 0);
}

/* The schema's $defs entry for a command and its first argument (or
 * NULL): "any" for a command the schema does not know. */
static const char *def_for(const char *const words[2])
{
        if (streq(words[0], "profile"))
                return !words[1] ? "any" : streq(words[1], "list") ? "profile-list"
                       : streq(words[1], "show") ? "profile-show" : "applied";
        if (streq(words[0], "reload"))
                return "applied";
        if (streq(words[0], "metrics"))
                return "error";
        for (const char *const *c = (const char *const[]){ "status", "off", "verify", "domains", "plan", "advise",
                                                           "recommend", NULL }; *c; c++)
                if (streq(words[0], *c))
                        return *c;
        return "any";
}

/* The schema's $defs entry for a command line (man/vmtunectl.schema.json),
 * or NULL without --json. */
static const char *json_def(va_list args)
{
        const char *words[2] = {}, *a;
        size_t n = 0;
        bool json = false;

        while ((a = va_arg(args, const char *)))
                if (streq(a, "--json") || streq(a, "-j"))
                        json = true;
                else if ((a[0] != '-' || streq(a, "--reset") || streq(a, "--recommended")) && n < 2)
                        words[n++] = a;
        if (!json || !words[0])
                return NULL;
        return def_for(words);
}

/* Issue 17: every --json answer is checked against the committed schema,
 * its $defs entry for the command (or the error), by Debian's
 * python3-jsonschema: the whole output, stderr included, is that one
 * object. */
static void assert_json_schema(struct tl_env *e, const char *def, const char *output)
{
        _cleanup_free_ char *validator = NULL, *schema = NULL, *file = NULL, *report = NULL;
        int code;

        validator = xasprintf("%s/tests/json/validate", tl_srcdir());
        schema = xasprintf("%s/man/vmtunectl.schema.json", tl_srcdir());
        file = xasprintf("%s/answer.json", e->dir);
        tl_write("/", file + 1, output);
        code = tl_run((char *[]){ validator, schema, (char *) def, file, NULL }, &report);
        if (code != 0)
                fail_msg("--json answer is not $defs/%s of the schema (validate exit %d):\n%s", def, code, report);
}

/* Run vmtunectl --runtime-dir RUN ARGS...; its exit code, output in *out.
 * With --json the output is validated against the schema first. */
static int ctl(struct tl_env *e, char **out, ...)
{
        _cleanup_free_ char *mine = NULL;
        const char *def;
        va_list ap;
        int code;

        va_start(ap, out);
        def = json_def(ap);
        va_end(ap);
        va_start(ap, out);
        code = tl_vmtunectlv(e->run, def ? &mine : out, ap);
        va_end(ap);
        if (def) {
                assert_json_schema(e, def, mine);
                if (out)
                        *out = TAKE_PTR(mine);
        }
        return code;
}

static void assert_contains(const char *text, const char *want)
{
        if (!strstr(text, want))
                fail_msg("expected \"%s\" in:\n%s", want, text);
}

static void assert_value(const struct tl_env *e, const char *rel, const char *want)
{
        tl_assert_value(e->root, rel, want);
}

static void assert_originals(const struct tl_env *e)
{
        tl_assert_originals(e->root, kernel_files, ARRAY_SIZE(kernel_files));
}

/* A fixture file is not a kernel file: a write leaves the bare word where
 * the kernel would show every choice with the current one in brackets, and
 * apply checks that the device offers a scheduler. Show them again. */
static void kernel_shows_scheduler_choices(const struct tl_env *e)
{
        static const char *const choices[] = { "none", "mq-deadline", "kyber" };
        char *now = tl_read_value(e->root, "sys/block/vda/queue/scheduler"), line[128] = "";

        for (size_t i = 0; i < 3; i++)
                snprintf(line + strlen(line), sizeof(line) - strlen(line), strcmp(now, choices[i]) == 0 ? "[%s] " : "%s ",
                         choices[i]);
        strcat(line, "\n");
        tl_write(e->root, "sys/block/vda/queue/scheduler", line);
        free(now);
}

static void assert_test_profile_applied(const struct tl_env *e)
{
        assert_value(e, "proc/sys/vm/swappiness", "10");
        assert_value(e, "proc/sys/vm/dirty_ratio", "40");
        assert_value(e, "proc/sys/vm/dirty_background_ratio", "5");
        assert_value(e, "proc/sys/kernel/numa_balancing", "0");
        assert_value(e, "sys/kernel/mm/transparent_hugepage/enabled", "always");
        assert_value(e, "sys/block/vda/queue/scheduler", "none");
}

/* --- a small JSON checker: the whole text is one valid JSON value ----------- */

static const char *json_value(const char *p, int depth);

static const char *json_ws(const char *p)
{
        while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
                p++;
        return p;
}

static const char *json_string(const char *p)
{
        if (*p++ != '"')
                return NULL;
        for (; *p != '"'; p++) {
                if (!*p || (unsigned char) *p < 0x20)
                        return NULL;
                if (*p == '\\') {
                        p++;
                        if (*p == 'u') {
                                for (int i = 1; i <= 4; i++)
                                        if (!strchr("0123456789abcdefABCDEF", p[i]) || !p[i])
                                                return NULL;
                                p += 4;
                        } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                                return NULL;
                        }
                }
        }
        return p + 1;
}

static const char *json_number(const char *p)
{
        const char *start;

        if (*p == '-')
                p++;
        start = p;
        while (*p >= '0' && *p <= '9')
                p++;
        if (p == start || (p - start > 1 && *start == '0'))
                return NULL;
        if (*p == '.') {
                start = ++p;
                while (*p >= '0' && *p <= '9')
                        p++;
                if (p == start)
                        return NULL;
        }
        return p;
}

/* open '{' or '[': members "key": value, or values, separated by ',' */
static const char *json_container(const char *p, int depth, char close)
{
        p = json_ws(p + 1);
        if (*p == close)
                return p + 1;
        for (;;) {
                if (close == '}') {
                        p = json_string(json_ws(p));
                        if (!p)
                                return NULL;
                        p = json_ws(p);
                        if (*p++ != ':')
                                return NULL;
                }
                p = json_value(p, depth + 1);
                if (!p)
                        return NULL;
                p = json_ws(p);
                if (*p == close)
                        return p + 1;
                if (*p++ != ',')
                        return NULL;
        }
}

static const char *json_value(const char *p, int depth)
{
        if (depth > 32)
                return NULL;
        p = json_ws(p);
        switch (*p) {
        case '{': return json_container(p, depth, '}');
        case '[': return json_container(p, depth, ']');
        case '"': return json_string(p);
        case 't': return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
        case 'f': return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
        case 'n': return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
        default: return json_number(p);
        }
}

/* A JSON text is UTF-8 (RFC 8259, 8.1) and parsers refuse anything else;
 * glibc's strict decoder says whether it is. */
static bool utf8_valid(const char *text)
{
        iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
        size_t in_left = strlen(text), out_left = 4 * in_left + 4;
        char *in = (char *) text, *buf = malloc(out_left), *out = buf;
        bool ok = cd != (iconv_t) -1 && buf && iconv(cd, &in, &in_left, &out, &out_left) != (size_t) -1;

        if (cd != (iconv_t) -1)
                iconv_close(cd);
        free(buf);
        return ok && in_left == 0;
}

static void assert_json(const char *text)
{
        const char *end = json_value(text, 0);

        if (!end || *json_ws(end) != '\0')
                fail_msg("not one JSON value (bad at offset %ld):\n%s", end ? (long) (end - text) : -1L, text);
        if (!utf8_valid(text))
                fail_msg("JSON, but not in UTF-8:\n%s", text);
}

static void test_json_checker_rejects_what_it_should(void **state)
{
        assert_non_null(json_value("{\"a\":[1,-2.5,true,null,\"x\\u0041\"],\"b\":{}}", 0));
        assert_null(json_value("{\"a\":1,}", 0));
        assert_null(json_value("[1 2]", 0));
        assert_null(json_value("{a:1}", 0));
        assert_null(json_value("\"tab\tin string\"", 0));
        assert_null(json_value("01", 0));
        assert_string_equal(json_value("\"web\"01\"", 0), "01\"");      /* the string ends early */
        assert_false(utf8_valid("\"bad \xff byte\""));
        assert_false(utf8_valid("\"cut \xe2\x82\""));
        assert_false(utf8_valid("\"surrogate \xed\xa0\x80\""));
        assert_true(utf8_valid("\"caf\xc3\xa9 \\ufffd\""));
}

/* --- status ------------------------------------------------------------------ */

static void test_status_shows_profile_apply_counts_libvirt_and_balancer(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        /* The test driver connects from the loop: wait for it. */
        for (int i = 0; i < 50; i++) {
                free(out);
                assert_int_equal(ctl(e, &out, "status", NULL), 0);
                if (strstr(out, ", connected"))
                        break;
                usleep(100 * 1000);
        }
        assert_contains(out, "profile:  test: fixture profile");
        assert_contains(out, "state:    applied since ");
        /* swappiness, dirty_ratio, dirty_background_ratio, THP, scheduler,
         * numa_balancing changed; the missing knob skipped. */
        assert_contains(out, "settings: 6 changed, 0 already set, 1 skipped at the last apply; "
                             "now 6 ok, 0 drifted, 0 adjusted, 1 skipped");
        assert_contains(out, "libvirt:  test:///default, connected");
        assert_contains(out, "domains:  1 running");
        assert_contains(out, "balancer: ");
        free(out);

        assert_int_equal(ctl(e, &out, "--json", "status", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"profile\":\"test\"");
        assert_contains(out, "\"applied\":true");
        assert_contains(out, "\"applied_since_usec\":");
        assert_contains(out, "\"last_apply\":{\"changed\":6,\"already_set\":0,\"skipped\":1}");
        assert_contains(out, "\"now\":{\"ok\":6,\"drifted\":0,\"adjusted\":0,\"skipped\":1}");
        assert_contains(out, "\"libvirt\":{\"uri\":\"test:///default\",\"connected\":true}");
        assert_contains(out, "\"domains\":1");
        assert_contains(out, "\"balancer\":{");
        free(out);
        stop(e);
}

/* --- profile list / show ------------------------------------------------------ */

static void test_profile_list_marks_the_active_one_and_shows_broken_ones(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        assert_int_equal(ctl(e, &out, "profile", "list", NULL), 0);
        assert_contains(out, "* test    fixture profile\n");
        assert_contains(out, "  other   only swappiness\n");
        assert_contains(out, "  base    base of test\n");
        assert_contains(out, "  broken  error: ");
        assert_contains(out, "nosuch");
        free(out);

        assert_int_equal(ctl(e, &out, "profile", "list", "--json", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"active\":\"test\"");
        assert_contains(out, "{\"name\":\"other\",\"summary\":\"only swappiness\"");
        assert_contains(out, "\"active\":true,\"error\":null");
        free(out);
        stop(e);
}

static void test_profile_show_names_the_file_and_line_of_every_setting(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL, want[700];

        start(e);
        assert_int_equal(ctl(e, &out, "profile", "show", "test", NULL), 0);
        assert_contains(out, "profile test (");
        snprintf(want, sizeof(want), "%s/base.conf:4", e->profiles);
        assert_contains(out, want); /* from the include */
        snprintf(want, sizeof(want), "%s/test.conf:5", e->profiles);
        assert_contains(out, want);
        assert_contains(out, "[sysctl] vm.dirty_background_ratio");
        /* The config's [balancer] kernel_numa_balancing is part of what applies. */
        assert_contains(out, "[sysctl] kernel.numa_balancing");
        snprintf(want, sizeof(want), "%s/vmtuned.conf [balancer] kernel_numa_balancing=off\n", e->dir);
        assert_contains(out, want);
        free(out);

        /* No name: the running profile. */
        assert_int_equal(ctl(e, &out, "profile", "show", NULL), 0);
        assert_contains(out, "profile test (");
        free(out);

        assert_int_equal(ctl(e, &out, "--json", "profile", "show", "other", NULL), 0);
        assert_json(out);
        assert_contains(out, "{\"version\":1,\"name\":\"other\"");
        /* Issue 17: source is {file,line} here as in verify; line null for
         * the setting derived from the configuration's option. */
        snprintf(want, sizeof(want), "{\"section\":\"sysctl\",\"key\":\"vm.swappiness\",\"value\":\"30\","
                 "\"source\":{\"file\":\"%s/other.conf\",\"line\":4}}", e->profiles);
        assert_contains(out, want);
        snprintf(want, sizeof(want), "\"key\":\"kernel.numa_balancing\",\"value\":\"0\","
                 "\"source\":{\"file\":\"%s/vmtuned.conf\",\"line\":null}}", e->dir);
        assert_contains(out, want);
        free(out);

        assert_int_equal(ctl(e, &out, "profile", "show", "nosuch", NULL), 1);
        assert_contains(out, "nosuch");
        free(out);
        stop(e);
}

/* --- switching, off, reload ------------------------------------------------------ */

static void test_profile_switch_applies_new_values_and_restores_keys_only_the_old_one_set(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        assert_test_profile_applied(e);
        assert_int_equal(ctl(e, &out, "profile", "other", NULL), 0);
        assert_contains(out, "profile other applied: ");
        free(out);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_value(e, "proc/sys/vm/dirty_ratio", "20");
        assert_value(e, "proc/sys/vm/dirty_background_ratio", "10");
        assert_value(e, "sys/kernel/mm/transparent_hugepage/enabled", "madvise");
        assert_value(e, "sys/block/vda/queue/scheduler", "mq-deadline");
        assert_value(e, "proc/sys/kernel/numa_balancing", "0"); /* the config's, for every profile */

        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "profile:  other: only swappiness");
        free(out);

        kernel_shows_scheduler_choices(e);
        assert_int_equal(ctl(e, &out, "--json", "profile", "test", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"profile\":\"test\",\"applied\":true");
        free(out);
        assert_test_profile_applied(e);
        stop(e);
        assert_originals(e);
}

static void test_failed_switch_leaves_the_old_profile_applied_and_says_why(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        assert_int_equal(ctl(e, &out, "profile", "broken", NULL), 1);
        assert_contains(out, "profile broken not switched to, nothing changed");
        assert_contains(out, "broken.conf:2");
        assert_contains(out, "nosuch");
        free(out);
        assert_test_profile_applied(e);

        assert_int_equal(ctl(e, &out, "--json", "profile", "nosuch", NULL), 1);
        assert_json(out);
        assert_contains(out, "{\"version\":1,\"error\":\"profile nosuch not switched to, nothing changed: ");
        free(out);
        assert_test_profile_applied(e);

        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "profile:  test: fixture profile");
        free(out);
        stop(e);
        assert_originals(e);
}

static void test_off_restores_everything_and_the_daemon_keeps_running(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        assert_int_equal(ctl(e, &out, "off", NULL), 0);
        assert_contains(out, "every value rolled back");
        free(out);
        assert_originals(e);
        assert_false(tl_exists(e->run, "rollback"));
        assert_int_equal(kill(e->d.pid, 0), 0);
        assert_int_equal(waitpid(e->d.pid, NULL, WNOHANG), 0);

        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "state:    off: rolled back (vmtunectl profile NAME or reload applies again)\n");
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "status", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"applied\":false");
        free(out);
        assert_int_equal(ctl(e, &out, "verify", NULL), 0);
        assert_contains(out, "is not applied");
        free(out);
        assert_int_equal(ctl(e, &out, "off", NULL), 0);
        assert_contains(out, "already off");
        free(out);

        /* And back on. */
        kernel_shows_scheduler_choices(e);
        assert_int_equal(ctl(e, &out, "profile", "test", NULL), 0);
        free(out);
        assert_test_profile_applied(e);
        stop(e);
        assert_originals(e);
}

/* Issue 17: off said "every value rolled back" and then "1 value(s) left
 * as found": one line now, saying which. */
static void test_off_with_a_value_changed_behind_our_back_does_not_say_every(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        tl_write(e->root, "proc/sys/vm/swappiness", "33\n");
        assert_int_equal(ctl(e, &out, "off", NULL), 0);
        assert_string_equal(out, "rolled back, but 1 value(s) left as found: changed by someone else since vmtuned "
                                 "wrote them (see the journal); profile test stays selected, not applied "
                                 "(vmtunectl profile NAME or reload applies again)\n");
        free(out);
        assert_value(e, "proc/sys/vm/swappiness", "33");
        assert_value(e, "proc/sys/vm/dirty_ratio", "20");
        stop(e);
}

static void test_reload_applies_the_changed_configuration_and_reports_a_bad_one(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = other\nlibvirt_uri = test:///default\n");
        assert_int_equal(ctl(e, &out, "reload", NULL), 0);
        assert_contains(out, "configuration reloaded; profile other applied");
        free(out);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_value(e, "proc/sys/vm/dirty_ratio", "20");

        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = test\nno_such_option = 1\n");
        assert_int_equal(ctl(e, &out, "reload", NULL), 1);
        assert_contains(out, "the running configuration stays");
        assert_contains(out, "vmtuned.conf:3");
        free(out);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        stop(e);
        assert_originals(e);
}

/* --- domains and plan: names that need escaping ---------------------------------- */

/* One test-driver domain named xml_name (XML-escaped) on the balancer's
 * two fixture nodes, the balancer ticking every second, profile applied. */
static void start_on_a_test_node(struct tl_env *e, const char *xml_name, const char *profile)
{
        _cleanup_free_ char *node = NULL, *conf = NULL;

        node = xasprintf("<node><domain type='test'><name>%s</name><memory unit='MiB'>1024</memory>"
                         "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n", xml_name);
        tl_write(e->dir, "node.xml", node);
        conf = xasprintf("[vmtuned]\nprofile = %s\nlibvirt_uri = test://%s/node.xml\n"
                         "[balancer]\nkernel_numa_balancing = off\ninterval = 1\n", profile, e->dir);
        tl_write(e->dir, "vmtuned.conf", conf);
        start(e);
}

/* vmtunectl --json plan once it has a plan: the first tick sets the
 * baseline, the second plans. */
static char *wait_for_plan(struct tl_env *e)
{
        char *out = NULL;

        for (int i = 0; i < 100; i++) {
                free(out);
                out = NULL;
                assert_int_equal(ctl(e, &out, "--json", "plan", NULL), 0);
                if (strstr(out, "\"tick\":"))
                        return out;
                usleep(100 * 1000);
        }
        fail_msg("no plan after 10 s:\n%s", out);
        return NULL;
}

/* libvirt takes any name but "/"; `web"01` once came out of the node table
 * as "name":"web"01" and no JSON parser read `vmtunectl --json domains` or
 * `--json plan`. Every string now goes through the one JSON writer. */
static void test_json_of_domains_and_plan_stays_valid_with_a_quote_in_a_domain_name(void **state)
{
        struct tl_env *e = *state;
        char *out;

        tl_write_sampled_domain(e->root, "web\"01", 4242);
        start_on_a_test_node(e, "web&quot;01", "test");
        out = wait_for_plan(e);
        assert_json(out);
        assert_contains(out, "\"vms\":[{\"name\":\"web\\\"01\",");
        free(out);

        assert_int_equal(ctl(e, &out, "--json", "domains", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"vms\":[{\"name\":\"web\\\"01\",");
        assert_contains(out, "\"domains\":[{\"name\":\"web\\\"01\",");
        free(out);
        /* No proc/schedstat in this kernel: status says the walk it costs. */
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "\nsampling: every thread of the host (no proc/schedstat), last tick 2 threads, ");
        free(out);
        stop(e);
        assert_originals(e);
}

/* --- the JSON contract (issue 17) ---------------------------------------------- */

/* A domain name, a profile's summary and value, and a value the kernel
 * held with every byte a JSON writer can get wrong: a quote, a backslash,
 * a tab (all three escaped; the tab as \u0009), non-ASCII (as it is), and in the kernel's
 * value a control character (\u0001) and a byte that is not UTF-8
 * (U+FFFD). libvirt's XML and vmtuned's configuration refuse control
 * characters but the tab, so only the kernel file has them. */
#define HOSTILE_DOMAIN "we\"b\\01\t\xc3\xa9"
#define HOSTILE_DOMAIN_JSON "we\\\"b\\\\01\\u0009\xc3\xa9"
#define HOSTILE_VALUE "q\"uote \\back\ttab caf\xc3\xa9"
#define HOSTILE_VALUE_JSON "q\\\"uote \\\\back\\u0009tab caf\xc3\xa9"
#define HOSTILE_KERNEL "was\x01here \xff"
#define HOSTILE_KERNEL_JSON "was\\u0001here \\ufffd"

/* ctl() with a fixed exit code and the exact answer, or part of it. */
static void assert_ctl_json(struct tl_env *e, int want_code, const char *want, const char *cmd, const char *arg)
{
        _cleanup_free_ char *out = NULL;
        int code = ctl(e, &out, "--json", cmd, arg, NULL);

        if (code != want_code)
                fail_msg("vmtunectl --json %s %s: exit %d, not %d:\n%s", cmd, arg ? arg : "", code, want_code, out);
        if (want)
                assert_contains(out, want);
}

/* Every command's --json answer, its errors included, is one object with
 * "version":1 that validates against man/vmtunectl.schema.json (ctl()
 * validates each one), with the exit code it has without --json. */
static void test_every_json_answer_validates_against_the_schema_with_hostile_names(void **state)
{
        struct tl_env *e = *state;
        char *out;

        tl_write_sampled_domain(e->root, HOSTILE_DOMAIN, 4242);
        tl_write(e->root, "proc/sys/kernel/domainname", HOSTILE_KERNEL "\n");
        tl_write(e->profiles, "hostile.conf",
                 "[main]\nsummary = " HOSTILE_VALUE "\n[sysctl]\nkernel.domainname = " HOSTILE_VALUE "\n");
        start_on_a_test_node(e, "we&quot;b\\01&#9;\xc3\xa9", "hostile");
        out = wait_for_plan(e);
        assert_contains(out, "{\"version\":1,\"tick\":");
        assert_contains(out, "\"vms\":[{\"name\":\"" HOSTILE_DOMAIN_JSON "\",");
        /* Issue 17: two idle nodes were "(ratio inf)". */
        assert_contains(out, "\"reason\":\"balanced: busiest node0 -> node1: nr_running 0.0 vs 0.0, "
                             "load 0.00 vs 0.00 (both idle); needs diff >= 2, ");
        free(out);

        assert_ctl_json(e, 0, "{\"version\":1,\"daemon_version\":", "status", NULL);
        assert_ctl_json(e, 0, "\"summary\":\"" HOSTILE_VALUE_JSON "\"", "status", NULL);
        assert_ctl_json(e, 0, "{\"version\":1,\"active\":\"hostile\",", "profile", "list");
        assert_ctl_json(e, 0, "\"value\":\"" HOSTILE_VALUE_JSON "\"", "profile", "show");
        /* White space folded, as the kernel shows it: the tab is a space. */
        assert_ctl_json(e, 0, "\"desired\":\"q\\\"uote \\\\back tab caf\xc3\xa9\"", "verify", NULL);
        assert_ctl_json(e, 0, "\"original\":\"" HOSTILE_KERNEL_JSON "\"", "verify", NULL);
        assert_ctl_json(e, 0, "\"domains\":[{\"name\":\"" HOSTILE_DOMAIN_JSON "\",", "domains", NULL);
        assert_ctl_json(e, 1, "{\"version\":1,\"advice\":[{\"domain\":\"" HOSTILE_DOMAIN_JSON "\",", "advise", NULL);
        assert_ctl_json(e, 1, "{\"version\":1,\"error\":\"no such domain", "advise", "nosuch");
        assert_ctl_json(e, 0, "{\"version\":1,\"profile\":", "recommend", NULL);
        assert_ctl_json(e, 1, "{\"version\":1,\"error\":\"metrics: Prometheus text only, no --json\"}\n", "metrics", NULL);
        assert_ctl_json(e, 2, "{\"version\":1,\"error\":\"usage: vmtunectl status\"}\n", "status", "extra");
        assert_ctl_json(e, 2, "{\"version\":1,\"error\":\"unknown command 'nosuch'; commands:\\u000a  status\\u000a",
                        "nosuch", NULL);
        assert_ctl_json(e, 0, "{\"version\":1,\"profile\":\"other\",\"applied\":true,", "profile", "other");
        assert_ctl_json(e, 0, "{\"version\":1,\"profile\":\"hostile\",\"applied\":true,", "profile", "--reset");
        assert_ctl_json(e, 1, "{\"version\":1,\"error\":\"profile throughput-performance not switched to", "profile",
                        "--recommended");
        assert_ctl_json(e, 0, "{\"version\":1,\"applied\":false,\"not_restored\":0}\n", "off", NULL);
        assert_ctl_json(e, 0, "{\"version\":1,\"applied\":false,\"not_restored\":0}\n", "off", NULL);
        assert_ctl_json(e, 0, "{\"version\":1,\"profile\":\"hostile\",\"applied\":false,", "verify", NULL);
        assert_ctl_json(e, 0, "{\"version\":1,\"profile\":\"hostile\",\"applied\":true,", "reload", NULL);
        assert_ctl_json(e, 2, "{\"version\":1,\"error\":\"vmtunectl: --reset goes with profile only", "status",
                        "--reset");
        stop(e);
        assert_ctl_json(e, 3, "{\"version\":1,\"error\":\"vmtuned is not running (no socket at ", "status", NULL);
}

/* The $defs entry of vmtunectl --json NAME [ARG] is in the schema, and
 * vmtunectl(8)'s JSON OUTPUT section (from section to end) names it. */
static void assert_def_documented(const char *schema, const char *section, const char *end, const char *name,
                                  const char *arg)
{
        const char *words[2] = { name, arg }, *def = def_for(words), *in_man;
        _cleanup_free_ char *key = xasprintf("\n    \"%s\": {", def), *named = xstrdup(" ");

        if (streq(def, "any"))
                fail_msg("no $defs entry for vmtunectl --json %s %s", name, arg ? arg : "");
        if (!strstr(schema, key))
                fail_msg("man/vmtunectl.schema.json has no $defs/%s", def);
        /* As roff writes it: "profile\-list". */
        for (const char *c = def; *c; c++) {
                char *more = xasprintf("%s%s", named, *c == '-' ? "\\-" : (char[]){ *c, 0 });

                free(named);
                named = more;
        }
        in_man = strstr(section, named);
        if (!in_man || in_man > end)
                fail_msg("vmtunectl(8), JSON OUTPUT, does not name $defs/%s", def);
}

/* Every command of the daemon's table, each form of "profile", has its
 * $defs entry in the schema, and vmtunectl(8) names it. */
static void test_schema_and_man_page_cover_every_command(void **state)
{
        static const char *const profile_args[] = { "list", "show", "NAME", "--reset", "--recommended" };
        struct daemon d = {};
        const struct control_command *cmds;
        size_t n = commands_table(&d, &cmds);
        _cleanup_free_ char *schema = tl_read(tl_srcdir(), "man/vmtunectl.schema.json");
        _cleanup_free_ char *man = tl_read(tl_srcdir(), "man/vmtunectl.8");
        const char *section, *end;

        (void) state;
        assert_non_null(schema);
        assert_non_null(man);
        section = strstr(man, "\n.SH JSON OUTPUT\n");
        assert_non_null(section);
        end = strstr(section + 1, "\n.SH ");
        assert_non_null(end);
        for (size_t i = 0; i < n; i++)
                if (streq(cmds[i].name, "profile"))
                        for (size_t k = 0; k < ARRAY_SIZE(profile_args); k++)
                                assert_def_documented(schema, section, end, cmds[i].name, profile_args[k]);
                else
                        assert_def_documented(schema, section, end, cmds[i].name, NULL);
}

/* The contract's first case as the issue found it: no daemon, plain text. */
static void test_json_error_without_a_daemon_is_json_with_exit_3(void **state)
{
        char *out = NULL;

        (void) state;
        assert_int_equal(tl_vmtunectl("/nonexistent", &out, "--json", "status", NULL), 3);
        assert_string_equal(out, "{\"version\":1,\"error\":\"vmtuned is not running (no socket at "
                                 "/nonexistent/vmtuned.sock)\"}\n");
        free(out);
        assert_int_equal(tl_vmtunectl("/nonexistent", &out, "status", "--bogus", "--json", NULL), 2);
        assert_string_equal(out, "{\"version\":1,\"error\":\"vmtunectl: unknown option or missing argument: "
                                 "--bogus (try 'vmtunectl --help')\"}\n");
        free(out);
        /* Without --json: the line of text, as before. */
        assert_int_equal(tl_vmtunectl("/nonexistent", &out, "status", NULL), 3);
        assert_string_equal(out, "vmtuned is not running (no socket at /nonexistent/vmtuned.sock)\n");
        free(out);
}

/* No movable VM (the one domain excluded): the balancer ticks but reads
 * nothing, and says so; on two nodes, so that it ticks at all. */
static void test_balancer_without_a_movable_vm_samples_nothing_and_says_why(void **state)
{
        struct tl_env *e = *state;
        char node_xml[512], conf[1024], *out = NULL;
        bool idle = false;

        tl_write_sampled_domain(e->root, "web01", 4242);
        tl_write(e->dir, "node.xml",
                 "<node><domain type='test'><name>web01</name><memory unit='MiB'>1024</memory>"
                 "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n");
        snprintf(node_xml, sizeof(node_xml), "%s/node.xml", e->dir);
        snprintf(conf, sizeof(conf), "[vmtuned]\nprofile = test\nlibvirt_uri = test://%s\nexclude = web*\n"
                 "[balancer]\nkernel_numa_balancing = off\ninterval = 1\n", node_xml);
        tl_write(e->dir, "vmtuned.conf", conf);
        start(e);
        for (int i = 0; i < 100 && !idle; i++) {
                free(out);
                assert_int_equal(ctl(e, &out, "status", NULL), 0);
                idle = strstr(out, "\nsampling: idle: no movable VM: nothing sampled\n") != NULL;
                if (!idle)
                        usleep(100 * 1000);
        }
        if (!idle)
                fail_msg("no idle tick after 10 s:\n%s", out);
        /* no migration timed yet: the first budget */
        assert_contains(out, " MiB migrated, up to 1024 MiB a tick until a migration is timed\n");
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "status", NULL), 0);
        assert_contains(out, "\"migrate_mib_per_sec\":0,\"migrate_budget_mib\":1024}");
        free(out);
        assert_int_equal(ctl(e, &out, "plan", NULL), 0);
        assert_contains(out, "no plan: no movable VM: nothing sampled");
        free(out);
        stop(e);
        assert_originals(e);
}

/* Lines of text that contain want. */
static unsigned count_lines_with(const char *text, const char *want)
{
        unsigned n = 0;

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *hit = strstr(l, want), *eol = strchr(l, '\n');

                if (hit && (!eol || hit < eol))
                        n++;
        }
        return n;
}

/* A failure is logged once, by whoever handles it, saying what follows:
 * the engine that met it once logged it too. */
static void test_journal_failure_on_switch_is_logged_once_and_everything_is_rolled_back(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL, *err;

        start(e);
        /* rollback.tmp as a directory: the journal cannot be replaced. */
        tl_write(e->run, "rollback.tmp/blocker", "");
        assert_int_equal(ctl(e, &out, "profile", "other", NULL), 1);
        assert_contains(out, "applying profile other failed");
        free(out);
        assert_originals(e);

        /* Two failures (the new profile, then the old one again), each in
         * one line that says what follows. */
        err = tl_daemon_stderr(&e->d);
        if (count_lines_with(err, "Is a directory") != 2)
                fail_msg("want two lines naming the journal failure:\n%s", err);
        assert_contains(err, "profile other: cannot update the rollback journal");
        assert_contains(err, "applying profile test again");
        assert_contains(err, "profile test: cannot update the rollback journal");
        free(err);

        tl_rm_rf(e->run);
        stop(e);
        assert_originals(e);
}

/* --- verify --------------------------------------------------------------------- */

static void test_verify_shows_drift_with_exit_1_and_names_the_sysctl_d_conflict(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL, want[700];

        start(e);
        /* A knob this kernel lacks is skipped, and fails verify: not on
         * this kernel (issue 12). */
        assert_int_equal(ctl(e, &out, "verify", NULL), 1);
        assert_contains(out, "KEY");
        assert_contains(out, "also set at boot by /etc/sysctl.d/90-local.conf:2: vm.swappiness = 33");
        assert_contains(out, "sysctl vm.no_such_knob");
        assert_contains(out, "skipped");
        assert_contains(out, "\n    not on this kernel\n");
        assert_contains(out, "6 ok, 0 drifted");
        free(out);

        /* Someone changes a value behind the daemon's back. */
        tl_write(e->root, "proc/sys/vm/swappiness", "33\n");
        assert_int_equal(ctl(e, &out, "verify", NULL), 1);
        assert_contains(out, "drift");
        assert_contains(out, "5 ok, 1 drifted");
        free(out);

        assert_int_equal(ctl(e, &out, "--json", "verify", NULL), 1);
        assert_json(out);
        assert_contains(out, "\"profile\":\"test\",\"applied\":true");
        assert_contains(out, "\"counts\":{\"ok\":5,\"adjusted\":0,\"drift\":1,\"skipped\":1,\"not_on_this_kernel\":1}");
        assert_contains(out, "{\"key\":\"sysctl vm.swappiness\",\"path\":\"proc/sys/vm/swappiness\","
                             "\"desired\":\"10\",\"actual\":\"33\",\"original\":\"60\",\"state\":\"drift\"");
        assert_contains(out, "\"conflicts\":[{\"source\":{\"file\":\"/etc/sysctl.d/90-local.conf\",\"line\":2},"
                             "\"value\":\"33\"}]");
        snprintf(want, sizeof(want), "\"state\":\"drift\",\"source\":{\"file\":\"%s/test.conf\",\"line\":5},",
                 e->profiles);
        assert_contains(out, want);
        free(out);

        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "1 drifted");
        free(out);
        stop(e);
}

/* [ksm] mode=auto: the KSM module writes run= and pages_to_scan= itself,
 * so they are not the static plan's. Apply, verify, status and
 * --check-config must all see the same plan: verify once reported the
 * profile's run=1 and pages_to_scan=300 as "2 drifted" (exit 1) while the
 * module held run=0 because memory was plentiful. */
static const char ksm_auto_profile[] =
        "[main]\n"
        "summary = KSM by memory pressure\n"
        "[sysctl]\n"
        "vm.swappiness = 10\n"
        "[ksm]\n"
        "mode = auto\n"
        "run = 1\n"
        "pages_to_scan = 300\n"
        "sleep_millisecs = 50\n";

/* What `vmtuned --check-config` prints (and logs) for this environment. */
static char *check_config(const struct tl_env *e)
{
        char *argv[26], *out = NULL;
        size_t i = 0;

        for (; e->argv[i]; i++)
                argv[i] = e->argv[i];
        argv[i++] = (char *) "--check-config";
        argv[i] = NULL;
        assert_int_equal(tl_run(argv, &out), 0);
        return out;
}

/* The targets `vmtuned --check-config` prints for this environment: the
 * indented lines after "on this host". */
static unsigned check_config_targets(const struct tl_env *e)
{
        char *out = check_config(e);
        unsigned n = 0;

        for (const char *l = strstr(out, "\non this host"); l && (l = strchr(l + 1, '\n'));)
                if (strncmp(l + 1, "  ", 2) == 0)
                        n++;
        free(out);
        return n;
}

static void test_ksm_auto_plan_is_the_same_for_apply_verify_status_and_check_config(void **state)
{
        struct tl_env *e = *state;
        unsigned changed, already, skipped, ok, drifted, adjusted, now_skipped;
        char *out = NULL;
        const char *p;

        tl_write(e->root, "sys/kernel/mm/ksm/run", "0\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_to_scan", "100\n");
        tl_write(e->root, "sys/kernel/mm/ksm/sleep_millisecs", "200\n");
        /* Plenty of memory: auto keeps KSM off. */
        tl_write(e->root, "proc/meminfo", "MemTotal:       16000000 kB\nMemAvailable:   15000000 kB\n");
        tl_write(e->profiles, "ksmauto.conf", ksm_auto_profile);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = ksmauto\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nkernel_numa_balancing = off\n");
        start(e);
        assert_value(e, "sys/kernel/mm/ksm/run", "0");
        assert_value(e, "sys/kernel/mm/ksm/sleep_millisecs", "50");

        if (ctl(e, &out, "verify", NULL) != 0)
                fail_msg("verify failed:\n%s", out);
        assert_contains(out, "ksm sleep_millisecs");
        if (strstr(out, "ksm run") || strstr(out, "ksm pages_to_scan"))
                fail_msg("verify compares knobs the KSM module owns in mode=auto:\n%s", out);
        assert_contains(out, "3 ok, 0 drifted");
        free(out);

        /* swappiness, numa_balancing, sleep_millisecs: the same three everywhere. */
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        p = strstr(out, "settings: ");
        assert_non_null(p);
        assert_int_equal(sscanf(p, "settings: %u changed, %u already set, %u skipped at the last apply; "
                                   "now %u ok, %u drifted, %u adjusted, %u skipped",
                                &changed, &already, &skipped, &ok, &drifted, &adjusted, &now_skipped), 7);
        free(out);
        assert_int_equal(changed + already + skipped, 3);
        assert_int_equal(ok + drifted + adjusted + now_skipped, 3);
        assert_int_equal(drifted, 0);
        assert_int_equal(check_config_targets(e), 3);
        stop(e);
}

/* Issue 18: a host coming from ksmtuned, KSM running with 1,000,000
 * pages sharing (3.8 GiB), and virtual-host-density's [ksm] section. The
 * daemon once unmerged them all at start (run=2) to set a knob that has
 * no effect on one node. nodes: the memory nodes ("0", "0-1"). */
static void ksm_merged_host(struct tl_env *e, const char *nodes)
{
        _cleanup_free_ char *n = xasprintf("%s\n", nodes);

        tl_write(e->root, "sys/devices/system/node/online", n);
        tl_write(e->root, "sys/devices/system/node/has_memory", n);
        tl_write(e->root, "sys/kernel/mm/ksm/run", "1\n");
        tl_write(e->root, "sys/kernel/mm/ksm/merge_across_nodes", "1\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_to_scan", "100\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_shared", "1000\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_sharing", "1000000\n");
        tl_write(e->root, "proc/meminfo", "MemTotal:       16000000 kB\nMemAvailable:   15000000 kB\n");
        tl_write(e->profiles, "density.conf", "[main]\nsummary = KSM as virtual-host-density has it\n"
                                              "[ksm]\nmerge_across_nodes = 0\npages_to_scan = 1000\nrun = 1\n");
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = density\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nkernel_numa_balancing = off\n");
}

static void assert_no_unmerge(const struct tl_env *e, const char *log)
{
        assert_value(e, "sys/kernel/mm/ksm/run", "1");
        assert_value(e, "sys/kernel/mm/ksm/merge_across_nodes", "1");
        if (strstr(log, "unmerging") || strstr(log, "ksm run: "))
                fail_msg("KSM was unmerged or run written:\n%s", log);
}

static void test_ksm_one_node_with_merged_pages_is_left_merged_at_start_and_stop(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        ksm_merged_host(e, "0");
        out = check_config(e);
        assert_contains(out, "[ksm] merge_across_nodes=0 not written: no effect with one NUMA node");
        free(out);

        start(e);
        assert_int_equal(ctl(e, &out, "verify", NULL), 0);
        assert_contains(out, "note: ");
        assert_contains(out, "no effect with one NUMA node");
        free(out);
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "merge_across_nodes=0 not written: no effect with one NUMA node");
        free(out);
        assert_int_equal(ctl(e, &out, "off", NULL), 0);
        free(out);
        stop(e);
        out = tl_daemon_stderr(&e->d);
        assert_contains(out, "no effect with one NUMA node");
        assert_no_unmerge(e, out);
        free(out);
        assert_value(e, "sys/kernel/mm/ksm/pages_to_scan", "100");
}

static void test_ksm_two_nodes_with_merged_pages_keep_merge_across_nodes_pending(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        ksm_merged_host(e, "0-1");
        start(e);
        assert_value(e, "sys/kernel/mm/ksm/pages_to_scan", "1000");
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "merge_across_nodes 1 -> 0 pending (2 NUMA nodes): 1000000 pages merged; "
                             "changing merge_across_nodes needs an unmerge of 3.8 GiB");
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "verify", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"notes\":[\"merge_across_nodes 1 -> 0 pending");
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "status", NULL), 0);
        assert_json(out);
        assert_contains(out, "\"numa\":\"merge_across_nodes 1 -> 0 pending");
        free(out);
        stop(e);
        out = tl_daemon_stderr(&e->d);
        assert_no_unmerge(e, out);
        free(out);
        assert_value(e, "sys/kernel/mm/ksm/pages_to_scan", "100");
}

/* Issue 17, every message true: the fixture's test profile has no [ksm].
 * The default mode=on then applies nothing, and the log said "KSM stopped
 * (mode=on)" and status "KSM: mode on, stopped", as if mode=on stopped it. */
static void test_a_profile_without_ksm_is_not_reported_as_mode_on(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        tl_write(e->root, "sys/kernel/mm/ksm/run", "0\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_sharing", "0\n");
        start(e);
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "\nKSM: no [ksm] in the profile, stopped (run=0)\n  why: left as the kernel has it\n");
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "status", NULL), 0);
        assert_contains(out, "\"in_profile\":false,\"mode\":\"on\",\"run\":0,");
        free(out);
        stop(e);
        out = tl_daemon_stderr(&e->d);
        assert_contains(out, "KSM stopped (no [ksm] in the profile): left as the kernel has it; pages_sharing 0,");
        if (strstr(out, "(mode=on)"))
                fail_msg("a profile without [ksm] logged as mode=on:\n%s", out);
        free(out);
}

/* Issue 17: status said "libvirt: ..., connected" while the KSM reason
 * said the domains' memory was not known (libvirt not connected): mode=auto
 * decided with the profile, before libvirt was asked, and not again until
 * its next tick (ksm_interval). It decides again once libvirt answers. */
static void test_status_libvirt_and_the_ksm_reason_agree(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        tl_write(e->root, "sys/kernel/mm/ksm/run", "0\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_to_scan", "100\n");
        tl_write(e->root, "proc/meminfo", "MemTotal:       16000000 kB\nMemAvailable:   15000000 kB\n");
        tl_write(e->profiles, "auto.conf", "[main]\nsummary = KSM when tight\n[ksm]\nmode = auto\nksm_interval = 3600\n");
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = auto\nlibvirt_uri = test:///default\n");
        start(e);
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "libvirt:  test:///default, connected\n");
        /* The domains' memory: test:///default's one domain. */
        assert_contains(out, "  why: memory plentiful: MemAvailable 14.3 GiB >= 25% of MemTotal 15.3 GiB (3.8 GiB), "
                             "domains' memory 2.0 GiB\n");
        /* No NUMA topology in this fixture: the balancer did not start,
         * and libvirt is not why. */
        assert_contains(out, "balancer: every 5 s; not running (it could not start; see the journal)\n");
        if (strstr(out, "not connected") || strstr(out, "not known"))
                fail_msg("status contradicts itself:\n%s", out);
        free(out);
        stop(e);
}

static void test_bad_arguments_exit_2(void **state)
{
        struct tl_env *e = *state;
        static const char *const bad[][4] = {
                { "status", "extra" }, { "profile" }, { "profile", "show", "a", "b" },
                { "verify", "x" }, { "off", "now" }, { "reload", "x" }, { "domains", "x" }, { "bogus" },
        };
        char *out = NULL;

        start(e);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int code = ctl(e, &out, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);

                if (code != 2)
                        fail_msg("vmtunectl %s %s: exit %d, want 2:\n%s", bad[i][0], bad[i][1] ? bad[i][1] : "",
                                 code, out);
                free(out);
        }
        assert_test_profile_applied(e);
        stop(e);
}

/* A control group member (here nobody:nogroup) may list and show profiles,
 * not switch them. Needs root to become someone else. */
static void test_control_group_member_may_list_profiles_but_not_switch(void **state)
{
        struct tl_env *e = *state;
        char *argv[] = { (char *) tl_vmtunectl_bin(), (char *) "--runtime-dir", e->run, (char *) "profile",
                         NULL, NULL, NULL };
        struct group *g = getgrnam("nogroup");
        _cleanup_free_ char *answer = NULL;
        char conf[512];
        int status;

        if (geteuid() != 0 || !g) {
                skip();
                return;
        }
        snprintf(conf, sizeof(conf), "[vmtuned]\nprofile = test\nlibvirt_uri = test:///default\n"
                                     "control_group = nogroup\n");
        tl_write(e->dir, "vmtuned.conf", conf);
        /* nobody must reach the socket: the directories on the way open. */
        assert_int_equal(chmod(e->dir, 0755), 0);
        assert_int_equal(mkdir(e->run, 0755), 0);
        start(e);

        /* The third time with --json (issue 17): the daemon's refusal, as
         * vmtunectl prints it, is the contract's error too. */
        for (int i = 0; i < 3; i++) {
                pid_t pid = fork();

                argv[4] = (char *) (i == 0 ? "list" : "other");
                argv[5] = (char *) (i == 2 ? "--json" : NULL);
                if (pid == 0) {
                        _cleanup_free_ char *path = xasprintf("%s/answer", e->dir);
                        int null = i == 2 ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : open("/dev/null", O_WRONLY);

                        dup2(null, STDOUT_FILENO);
                        dup2(null, STDERR_FILENO);
                        if (setgroups(0, NULL) < 0 || setgid(g->gr_gid) < 0 || setuid(65534) < 0)
                                _exit(99);
                        execv(argv[0], argv);
                        _exit(98);
                }
                assert_true(pid > 0);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), i == 0 ? 0 : 4);
        }
        answer = tl_read(e->dir, "answer");
        assert_string_equal(answer, "{\"version\":1,\"error\":\"permission denied: 'profile' needs root; the control "
                                    "group may only run read-only commands\"}\n");
        assert_json_schema(e, "error", answer);
        assert_value(e, "proc/sys/vm/swappiness", "10");
        stop(e);
}

/* --- the documentation against the code ---------------------------------------- */

/* Add each word to a '\n'-joined set (sorted on output) once. */
struct words {
        char *v[64];
        size_t n;
};

static void words_add(struct words *w, const char *word, size_t len)
{
        for (size_t i = 0; i < w->n; i++)
                if (strlen(w->v[i]) == len && strncmp(w->v[i], word, len) == 0)
                        return;
        assert_true(w->n < 64);
        w->v[w->n++] = strndup(word, len);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static char *words_join(struct words *w)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        qsort(w->v, w->n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < w->n; i++) {
                fprintf(f, "%s ", w->v[i]);
                free(w->v[i]);
        }
        fclose(f);
        w->n = 0;
        return buf;
}

/* The first word of each line from start up to a line that is empty (or,
 * with a non-NULL stop, that starts with stop). */
static void first_words(const char *start, const char *stop, struct words *w)
{
        for (const char *l = start; l && *l && *l != '\n'; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                size_t len;

                if (stop && strncmp(l, stop, strlen(stop)) == 0)
                        break;
                l += strspn(l, " ");
                len = strcspn(l, " \n");
                words_add(w, l, len);
        }
}

static void assert_same_commands(const char *what, char *got, const char *want)
{
        if (strcmp(got, want) != 0)
                fail_msg("%s lists \"%s\", the daemon implements \"%s\"", what, got, want);
        free(got);
}

static void test_help_completion_and_man_page_list_exactly_the_daemons_commands(void **state)
{
        struct daemon d = {};
        const struct control_command *cmds;
        size_t n = commands_table(&d, &cmds);
        char *argv[] = { (char *) tl_vmtunectl_bin(), (char *) "--help", NULL };
        char *help = NULL, *completion, *man, *p, *want;
        struct words w = {};

        for (size_t i = 0; i < n; i++)
                words_add(&w, cmds[i].name, strlen(cmds[i].name));
        /* vmtunectl's own command, run without the daemon. */
        words_add(&w, "import-tuned", strlen("import-tuned"));
        want = words_join(&w);

        assert_int_equal(tl_run(argv, &help), 0);
        p = strstr(help, "\nCommands:\n");
        assert_non_null(p);
        first_words(p + strlen("\nCommands:\n"), NULL, &w);
        assert_same_commands("vmtunectl --help", words_join(&w), want);

        completion = tl_read(tl_srcdir(), "systemd/vmtunectl.bash-completion");
        assert_non_null(completion);
        p = strstr(completion, "local commands=\"");
        assert_non_null(p);
        p += strlen("local commands=\"");
        for (size_t len; *p != '"'; p += len + strspn(p + len, " ")) {
                len = strcspn(p, " \"");
                words_add(&w, p, len);
        }
        assert_same_commands("systemd/vmtunectl.bash-completion", words_join(&w), want);

        /* vmtunectl(8): every ".TP" item of COMMANDS names one command first. */
        man = tl_read(tl_srcdir(), "man/vmtunectl.8");
        assert_non_null(man);
        p = strstr(man, "\n.SH COMMANDS\n");
        assert_non_null(p);
        *strstr(p + 1, "\n.SH ") = '\0';
        /* A list nested in an item (verify's states) is not commands. */
        for (char *rs = p; (rs = strstr(rs, "\n.RS\n"));) {
                char *re = strstr(rs, "\n.RE\n");

                assert_non_null(re);
                memset(rs + 1, ' ', (size_t) (re - rs));
                rs = re + 1;
        }
        while ((p = strstr(p, "\n.TP\n"))) {
                p += strlen("\n.TP\n");
                p += strcspn(p, " ") + 1; /* the macro: .B or .BI */
                p += *p == '"';
                words_add(&w, p, strcspn(p, " \"\n"));
        }
        assert_same_commands("vmtunectl(8)", words_join(&w), want);

        free(want);
        free(help);
        free(completion);
        free(man);
}

/* A source file's journal fields ("VMTUNED_...") are each described in
 * vmtuned(8). */
static void assert_journal_fields_documented(const char *path, const char *man)
{
        char *src = tl_read(tl_srcdir(), path);

        for (char *p = src; p && (p = strstr(p, "\"VMTUNED_")); p++) {
                char want[96];
                size_t len = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

                snprintf(want, sizeof(want), "\n.B %.*s\n", (int) len, p + 1);
                if (!strstr(man, want) && !strstr(man, want + 1))
                        fail_msg("%s logs the journal field %.*s; vmtuned(8) does not describe it (\"%s\")",
                                 path, (int) len, p + 1, want + 1);
        }
        free(src);
}

/* Every MESSAGE_ID of log.h is in vmtuned(8)'s table and the table has no
 * other; every VMTUNED_* journal field the code logs is described there. */
static void test_man_page_documents_every_message_id_and_journal_field(void **state)
{
        char *log_h = tl_read(tl_srcdir(), "include/base/log.h");
        char *man = tl_read(tl_srcdir(), "man/vmtuned.8");
        char path[1024], *man_ids, *code_ids;
        struct words w = {};
        struct dirent *layer, *de;
        DIR *top, *dir;

        assert_non_null(log_h);
        assert_non_null(man);
        for (char *p = log_h; (p = strstr(p, "#define MSGID_")); p++) {
                p = strchr(p, '"') + 1;
                words_add(&w, p, strcspn(p, "\""));
        }
        code_ids = words_join(&w);
        for (char *p = man; (p = strchr(p, '\n')); p++)
                if (strspn(p + 1, "0123456789abcdef") == 32 && p[33] == '|')
                        words_add(&w, p + 1, 32);
        man_ids = words_join(&w);
        if (strcmp(code_ids, man_ids) != 0)
                fail_msg("include/base/log.h has MESSAGE_IDs\n%s\nvmtuned(8) lists\n%s", code_ids, man_ids);

        /* Every .c in src/ and its folders (one level: src/LAYER/x.c). */
        snprintf(path, sizeof(path), "%s/src", tl_srcdir());
        top = opendir(path);
        assert_non_null(top);
        while ((layer = readdir(top))) {
                char rel[600];

                if (layer->d_name[0] == '.')
                        continue;
                if (strstr(layer->d_name, ".c")) {
                        snprintf(rel, sizeof(rel), "src/%s", layer->d_name);
                        assert_journal_fields_documented(rel, man);
                        continue;
                }
                snprintf(path, sizeof(path), "%s/src/%s", tl_srcdir(), layer->d_name);
                dir = opendir(path);
                if (!dir)
                        continue;
                while ((de = readdir(dir))) {
                        if (!strstr(de->d_name, ".c"))
                                continue;
                        snprintf(rel, sizeof(rel), "src/%s/%s", layer->d_name, de->d_name);
                        assert_journal_fields_documented(rel, man);
                }
                closedir(dir);
        }
        closedir(top);
        free(code_ids);
        free(man_ids);
        free(log_h);
        free(man);
}

/* --- the profile chosen with vmtunectl lasts ---------------------------------- */

/* SIGHUP, and wait until the daemon is ready again. */
static void sighup_and_wait(struct tl_env *e)
{
        char *reloading;

        e->d.n_notifications = 0;
        e->d.notifications[0] = '\0';
        assert_int_equal(kill(e->d.pid, SIGHUP), 0);
        assert_true(tl_daemon_wait_notify(&e->d, "RELOADING=1", 30000));
        for (int i = 0; i < 300; i++) {
                reloading = strstr(e->d.notifications, "RELOADING=1");
                if (reloading && strstr(reloading, "READY=1"))
                        return;
                tl_daemon_wait_notify(&e->d, "NEVER", 100);
        }
        fail_msg("no READY=1 after the reload:\n%s", e->d.notifications);
}

static void restart(struct tl_env *e)
{
        stop(e);
        tl_daemon_free(&e->d);
        kernel_shows_scheduler_choices(e);
        start(e);
}

/* argv[0..size): the daemon's command line with extra appended. */
static void argv_with(const struct tl_env *e, char **argv, size_t size, const char *extra)
{
        size_t n = 0;

        for (; e->argv[n] && n + 2 < size; n++)
                argv[n] = e->argv[n];
        argv[n++] = (char *) extra;
        argv[n] = NULL;
}

/* status names the profile and who chose it, text and JSON. */
static void assert_status_source(struct tl_env *e, const char *profile, const char *source, const char *json_kind)
{
        char *out = NULL, want[600];

        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        snprintf(want, sizeof(want), "profile:  %s", profile);
        assert_contains(out, want);
        snprintf(want, sizeof(want), "\nsource:   %s\n", source);
        assert_contains(out, want);
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "status", NULL), 0);
        assert_json(out);
        snprintf(want, sizeof(want), "\"profile\":\"%s\"", profile);
        assert_contains(out, want);
        snprintf(want, sizeof(want), "\"profile_source\":{\"kind\":\"%s\"", json_kind);
        assert_contains(out, want);
        free(out);
}

static char *persisted_source(const struct tl_env *e)
{
        return xasprintf("vmtunectl profile (persisted in %s/active_profile)", e->state);
}

static char *config_source(const struct tl_env *e)
{
        return xasprintf("configuration file %s", e->config);
}

/* tuned's `tuned-adm profile` lasts; so does ours: through SIGHUP and a
 * restart, until `vmtunectl profile --reset`. */
static void test_profile_choice_lasts_across_sighup_and_restart_until_reset(void **state)
{
        struct tl_env *e = *state;
        _cleanup_free_ char *persisted = persisted_source(e), *config = config_source(e);
        char *out = NULL, *saved;

        start(e);
        assert_status_source(e, "test", config, "configuration-file");
        assert_int_equal(ctl(e, &out, "profile", "other", NULL), 0);
        assert_contains(out, "profile other applied");
        free(out);
        /* The choice, and the profile= it was chosen over. */
        saved = tl_read(e->state, "active_profile");
        assert_string_equal(saved, "other\ntest\n");
        free(saved);
        assert_status_source(e, "other", persisted, "vmtunectl");

        sighup_and_wait(e);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_status_source(e, "other", persisted, "vmtunectl");
        assert_int_equal(ctl(e, &out, "reload", NULL), 0);
        assert_contains(out, "configuration reloaded; profile other applied");
        free(out);

        restart(e);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_value(e, "proc/sys/vm/dirty_ratio", "20");
        assert_status_source(e, "other", persisted, "vmtunectl");

        assert_int_equal(ctl(e, &out, "profile", "--reset", NULL), 0);
        assert_contains(out, "choice reset; profile test applied");
        free(out);
        assert_false(tl_exists(e->state, "active_profile"));
        assert_test_profile_applied(e);
        assert_status_source(e, "test", config, "configuration-file");
        sighup_and_wait(e);
        assert_status_source(e, "test", config, "configuration-file");
        /* Nothing to forget: still fine. */
        kernel_shows_scheduler_choices(e);
        assert_int_equal(ctl(e, &out, "profile", "--reset", NULL), 0);
        free(out);
        stop(e);
        assert_originals(e);
}

/* A configuration file without profile= runs the built-in default, and
 * status says so rather than naming the file. */
static void test_config_without_profile_line_runs_the_built_in_default(void **state)
{
        struct tl_env *e = *state;
        _cleanup_free_ char *config = config_source(e);

        tl_write(e->profiles, "virtual-host.conf", test_profile);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nlibvirt_uri = test:///default\n");
        start(e);
        assert_status_source(e, "virtual-host", "built-in default", "built-in-default");
        stop(e);
        tl_daemon_free(&e->d);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = virtual-host\nlibvirt_uri = test:///default\n");
        start(e);
        assert_status_source(e, "virtual-host", config, "configuration-file");
        stop(e);
        assert_originals(e);
}

/* The administrator edits profile= after the choice: the file wins, at
 * reload and at start, and the stale choice does not come back when
 * profile= is set back. */
static void test_edited_profile_in_the_configuration_wins_over_the_choice(void **state)
{
        struct tl_env *e = *state;
        _cleanup_free_ char *config = config_source(e);
        char *out = NULL, *err;

        start(e);
        assert_int_equal(ctl(e, &out, "profile", "other", NULL), 0);
        free(out);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = base\nlibvirt_uri = test:///default\n");
        assert_int_equal(ctl(e, &out, "reload", NULL), 0);
        assert_contains(out, "configuration reloaded; profile base applied");
        free(out);
        assert_status_source(e, "base", config, "configuration-file");
        assert_false(tl_exists(e->state, "active_profile"));
        err = tl_daemon_stderr(&e->d);
        assert_contains(err, "forgetting profile other chosen with vmtunectl");
        free(err);
        tl_write(e->dir, "vmtuned.conf", good_config);
        kernel_shows_scheduler_choices(e);
        assert_int_equal(ctl(e, &out, "reload", NULL), 0);
        assert_contains(out, "profile test applied");
        free(out);

        /* The same when the edit happens while the daemon is stopped. */
        assert_int_equal(ctl(e, &out, "profile", "other", NULL), 0);
        free(out);
        stop(e);
        tl_daemon_free(&e->d);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = base\nlibvirt_uri = test:///default\n");
        start(e);
        assert_status_source(e, "base", config, "configuration-file");
        assert_false(tl_exists(e->state, "active_profile"));
        stop(e);
        assert_originals(e);
}

/* A persisted name whose profile is gone, a file that is not ours to
 * trust, a file that is not two names: a warning naming the file, and
 * the configuration's profile. The daemon starts. */
static void test_unusable_persisted_choice_falls_back_to_the_configuration(void **state)
{
        static const struct {
                const char *content;
                mode_t mode;
                const char *warning;
        } cases[] = {
                { "gone\ntest\n", 0644, "active_profile names profile gone, which cannot be loaded" },
                { "broken\n", 0644, "active_profile names profile broken, which cannot be loaded" },
                { "../../etc/passwd\n", 0644, "active_profile: not one or two profile names, one a line" },
                { "other\ntest\nthird\n", 0644, "active_profile: not one or two profile names, one a line" },
                { "other\ntest\n", 0666, "active_profile: not a regular file owned by root that only root may write" },
        };
        struct tl_env *e = *state;
        _cleanup_free_ char *config = config_source(e);

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *file = xasprintf("%s/active_profile", e->state);
                char *err;

                tl_write(e->state, "active_profile", cases[i].content);
                assert_int_equal(chmod(file, cases[i].mode), 0);
                kernel_shows_scheduler_choices(e);
                start(e);
                err = tl_daemon_stderr(&e->d);
                assert_contains(err, cases[i].warning);
                assert_contains(err, "running profile test (configuration file ");
                free(err);
                assert_test_profile_applied(e);
                assert_status_source(e, "test", config, "configuration-file");
                /* Left for the administrator to see. */
                assert_true(tl_exists(e->state, "active_profile"));
                stop(e);
                tl_daemon_free(&e->d);
        }
        assert_originals(e);
}

/* --profile is the base a choice is made over, like profile=: the choice
 * lasts while the daemon starts with the same --profile. */
static void test_command_line_profile_is_the_base_of_the_choice(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL, *saved, *argv[32];
        size_t n;

        argv_with(e, argv, ARRAY_SIZE(argv), "--profile=other");
        for (n = 0; argv[n]; n++)
                ;

        tl_assert_daemon_starts(&e->d, argv);
        assert_status_source(e, "other", "command line", "command-line");
        assert_int_equal(ctl(e, &out, "profile", "base", NULL), 0);
        free(out);
        saved = tl_read(e->state, "active_profile");
        assert_string_equal(saved, "base\nother\n");
        free(saved);
        stop(e);
        tl_daemon_free(&e->d);
        tl_assert_daemon_starts(&e->d, argv);
        assert_int_equal(ctl(e, &out, "status", NULL), 0);
        assert_contains(out, "profile:  base");
        free(out);
        stop(e);
        tl_daemon_free(&e->d);

        argv[n - 1] = (char *) "--profile=test";
        kernel_shows_scheduler_choices(e);
        tl_assert_daemon_starts(&e->d, argv);
        assert_status_source(e, "test", "command line", "command-line");
        stop(e);
        assert_originals(e);
}

/* A dry run writes nothing, the state file included: the choice says so. */
static void test_dry_run_choice_is_not_persisted(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL, *argv[32];

        argv_with(e, argv, ARRAY_SIZE(argv), "--dry-run");
        tl_assert_daemon_starts(&e->d, argv);
        assert_int_equal(ctl(e, &out, "profile", "other", NULL), 0);
        free(out);
        assert_false(tl_exists(e->state, "active_profile"));
        assert_status_source(e, "other", "vmtunectl profile (not persisted: dry run; lasts until the next reload or "
                                         "restart)", "vmtunectl");
        stop(e);
        assert_originals(e);
}

/* Issue 12: a misspelt sysctl in the running profile is "not on this
 * kernel" with a did-you-mean, in text and --json, and verify exits 1;
 * every other key in place (numa_balancing too). */
static void test_verify_fails_on_a_key_not_on_this_kernel_with_did_you_mean(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        tl_write(e->profiles, "typo.conf", "[main]\nsummary = a typo\n[sysctl]\nvm.dirty_ratio = 40\n"
                                           "vm.swapiness = 10\n");
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = typo\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nkernel_numa_balancing = off\n");
        start(e);
        assert_int_equal(ctl(e, &out, "verify", NULL), 1);
        assert_contains(out, "typo.conf:5\n    not on this kernel; did you mean vm.swappiness?\n");
        assert_contains(out, "2 ok, 0 drifted, 0 adjusted by the kernel, 1 skipped (1 not on this kernel)");
        free(out);
        assert_int_equal(ctl(e, &out, "--json", "verify", NULL), 1);
        assert_json(out);
        assert_contains(out, "\"not_on_this_kernel\":true,\"did_you_mean\":\"vm.swappiness\"}");
        assert_contains(out, "\"skipped\":1,\"not_on_this_kernel\":1}");
        free(out);
        stop(e);
}

/* --- metrics ---------------------------------------------------------------- */

/* The series of a metrics text: every sample line without its value, in
 * order, one a line ("vmtuned_applied", "vmtuned_settings{...}"). */
static char *metrics_series(const char *text)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        for (const char *p = text; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n')) {
                size_t len = strcspn(p, "\n");
                const char *space = p + len;

                if (*p == '#')
                        continue;
                while (space > p && *space != ' ')
                        space--;
                fprintf(f, "%.*s\n", (int) (space - p), p);
        }
        assert_int_equal(fclose(f), 0);
        return buf;
}

/* `vmtunectl metrics`: the profile as an info metric, and the settings by
 * section as verify finds them now, drift included. */
static void test_metrics_show_the_profile_and_the_settings_by_section_with_drift(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        assert_int_equal(ctl(e, &out, "metrics", NULL), 0);
        assert_contains(out, "# TYPE vmtuned_profile_info gauge\n"
                             "vmtuned_profile_info{profile=\"test\",source=\"configuration-file\"} 1\n");
        assert_contains(out, "\nvmtuned_applied 1\n");
        /* swappiness, dirty_ratio, dirty_background_ratio, numa_balancing;
         * vm.no_such_knob is not on this kernel. */
        assert_contains(out, "\nvmtuned_settings{section=\"sysctl\",state=\"ok\"} 4\n");
        assert_contains(out, "\nvmtuned_settings{section=\"sysctl\",state=\"drifted\"} 0\n");
        assert_contains(out, "\nvmtuned_settings{section=\"sysctl\",state=\"skipped\"} 1\n");
        assert_contains(out, "\nvmtuned_settings{section=\"vm\",state=\"ok\"} 1\n");
        assert_contains(out, "\nvmtuned_last_apply_settings{result=\"changed\"} 6\n");
        assert_contains(out, "\nvmtuned_libvirt_connected 1\n");
        assert_contains(out, "\nvmtuned_start_time_seconds ");
        free(out);

        tl_write(e->root, "proc/sys/vm/swappiness", "77\n");
        assert_int_equal(ctl(e, &out, "metrics", NULL), 0);
        assert_contains(out, "\nvmtuned_settings{section=\"sysctl\",state=\"ok\"} 3\n");
        assert_contains(out, "\nvmtuned_settings{section=\"sysctl\",state=\"drifted\"} 1\n");
        free(out);
        tl_write(e->root, "proc/sys/vm/swappiness", "10\n");

        assert_int_equal(ctl(e, &out, "off", NULL), 0);
        free(out);
        assert_int_equal(ctl(e, &out, "metrics", NULL), 0);
        assert_contains(out, "\nvmtuned_applied 0\n");
        if (strstr(out, "vmtuned_settings{"))
                fail_msg("settings counted while off:\n%s", out);
        free(out);

        assert_int_equal(ctl(e, &out, "--json", "metrics", NULL), 1);
        assert_json(out);
        free(out);
        assert_int_equal(ctl(e, &out, "metrics", "now", NULL), 2);
        free(out);
        stop(e);
        assert_originals(e);
}

/* Wait up to 10 s for dir/rel to exist and hold want (NULL: anything). */
static char *wait_for_file(const struct tl_env *e, const char *rel, const char *want)
{
        char *text = NULL;

        for (int i = 0; i < 100; i++) {
                free(text);
                text = tl_read(e->dir, rel);
                if (text && (!want || strstr(text, want)))
                        return text;
                usleep(100 * 1000);
        }
        fail_msg("%s/%s: not there or without \"%s\" after 10 s:\n%s", e->dir, rel, want ? want : "",
                 text ? text : "(none)");
        return NULL;
}

/* metrics_file=: written at start with the series `vmtunectl metrics`
 * prints, rewritten every balancer interval (the node series appear once
 * the balancer has measured), moved by a reload, removed at stop. The
 * domain's name is outside input and stays one label value. */
static void test_metrics_file_is_written_rewritten_moved_by_reload_and_removed_at_stop(void **state)
{
        struct tl_env *e = *state;
        char node_xml[512], conf[1024], *out = NULL, *text, *want, *got;
        struct stat st;

        tl_write_sampled_domain(e->root, "web\"01\\x", 4242);
        tl_write(e->dir, "node.xml",
                 "<node><domain type='test'><name>web&quot;01\\x</name><memory unit='MiB'>1024</memory>"
                 "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n");
        snprintf(node_xml, sizeof(node_xml), "%s/node.xml", e->dir);
        snprintf(conf, sizeof(conf), "[vmtuned]\nprofile = test\nlibvirt_uri = test://%s\n"
                 "metrics_file = %s/a.prom\n[balancer]\nkernel_numa_balancing = off\ninterval = 1\n",
                 node_xml, e->dir);
        tl_write(e->dir, "vmtuned.conf", conf);
        start(e);

        text = wait_for_file(e, "a.prom", "\nvmtuned_node_load_ratio{node=\"0\"} ");
        assert_contains(text, "vmtuned_profile_info{profile=\"test\",source=\"configuration-file\"} 1\n");
        assert_contains(text, "\nvmtuned_settings{section=\"sysctl\",state=\"ok\"} 4\n");
        assert_contains(text, "\nvmtuned_domain_node_info{domain=\"web\\\"01\\\\x\",uuid=\"");
        assert_contains(text, "\",node=\"0\"} 1\n");
        assert_contains(text, "\nvmtuned_domain_local_memory_ratio{domain=\"web\\\"01\\\\x\",uuid=\"");
        assert_contains(text, "\nvmtuned_node_memory_total_bytes{node=\"0\"} 4294967296\n");
        assert_contains(text, "\nvmtuned_balancer_ticks_total ");
        free(text);
        {
                char path[600];

                snprintf(path, sizeof(path), "%s/a.prom", e->dir);
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0644);
        }
        /* The same series as vmtunectl metrics; values move with every tick. */
        assert_int_equal(ctl(e, &out, "metrics", NULL), 0);
        text = tl_read(e->dir, "a.prom");
        assert_non_null(text);
        want = metrics_series(out);
        got = metrics_series(text);
        if (strcmp(want, got) != 0)
                fail_msg("a.prom has other series than vmtunectl metrics:\n%s\n---\n%s", got, want);
        free(want);
        free(got);
        free(text);
        free(out);
        assert_false(tl_exists(e->dir, "a.prom.tmp"));

        snprintf(conf, sizeof(conf), "[vmtuned]\nprofile = other\nlibvirt_uri = test://%s\n"
                 "metrics_file = %s/b.prom\n[balancer]\nkernel_numa_balancing = off\ninterval = 1\n",
                 node_xml, e->dir);
        tl_write(e->dir, "vmtuned.conf", conf);
        assert_int_equal(ctl(e, &out, "reload", NULL), 0);
        free(out);
        text = wait_for_file(e, "b.prom", "vmtuned_profile_info{profile=\"other\"");
        free(text);
        assert_false(tl_exists(e->dir, "a.prom"));
        stop(e);
        assert_false(tl_exists(e->dir, "b.prom"));
        assert_originals(e);
}

/* Issue 16: advise through the daemon's libvirt connection, on the test
 * driver's default domain (8 GiB, a NIC without a model, no CPU mode):
 * each line names its rule and source, exit 1 while there is advice;
 * a domain that does not exist is an error, not "nothing to say". */
static int ctl_connected(struct tl_env *e, char **out, const char *a1, const char *a2, const char *a3)
{
        int code = -1;

        *out = NULL; /* the caller's last answer is freed already */
        for (int i = 0; i < 100; i++) {
                free(*out);
                *out = NULL;
                code = ctl(e, out, a1, a2, a3, NULL);
                if (!strstr(*out, "libvirt is not connected"))
                        break;
                usleep(100 * 1000);
        }
        return code;
}

static void test_advise_names_rule_and_source_for_the_test_drivers_domain(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        start(e);
        assert_int_equal(ctl_connected(e, &out, "advise", NULL, NULL), 1);
        assert_contains(out, "test: net-virtio: interface 1 aa:bb:cc:dd:ee:ff has model '(the hypervisor's "
                             "default, emulated)'");
        assert_contains(out, "\n    [IBM, Best practices for KVM, \"Configure para-virtualized network devices\"; "
                             "SUSE, Virtualization Best Practices, 6.1.2 virtio net]\n");
        assert_contains(out, "test: cpu-model: CPU mode 'default'");
        assert_contains(out, "test: hugepages: 8192 MiB of memory in 4 KiB pages");
        free(out);
        assert_int_equal(ctl_connected(e, &out, "--json", "advise", "test"), 1);
        assert_json(out);
        assert_contains(out, "{\"version\":1,\"advice\":[{\"domain\":\"test\",\"rule\":\"net-virtio\",");
        assert_contains(out, "\"reference\":\"IBM, Best practices for KVM, ");
        assert_contains(out, "],\"domains\":1}\n");
        free(out);
        assert_int_equal(ctl(e, &out, "advise", "nosuch", NULL), 1);
        assert_contains(out, "no such domain");
        free(out);
        assert_int_equal(ctl(e, &out, "advise", "--", "-x", NULL), 2);
        free(out);
        stop(e);
}

/* recommend reads the host at each call: no /dev/kvm, then a KVM host,
 * then KSM sharing; profile --recommended switches to what it names. */
static void test_recommend_follows_the_host_and_profile_recommended_switches(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        tl_write(e->root, "proc/meminfo", "MemTotal:       16777216 kB\nHugepagesize:       2048 kB\n");
        tl_write(e->profiles, "virtual-host-density.conf", "[main]\nsummary = density\n[sysctl]\n"
                                                            "vm.swappiness = 30\n");
        start(e);
        assert_int_equal(ctl(e, &out, "recommend", NULL), 0);
        assert_contains(out, "throughput-performance\n  - no /dev/kvm");
        free(out);
        tl_write(e->root, "dev/kvm", "");
        assert_int_equal(ctl_connected(e, &out, "recommend", NULL, NULL), 0);
        assert_contains(out, "virtual-host\n  - a KVM host with 1 running domain(s) (2048 of 16384 MiB)");
        free(out);
        tl_write(e->root, "sys/kernel/mm/ksm/pages_sharing", "10\n");
        assert_int_equal(ctl(e, &out, "--json", "recommend", NULL), 0);
        assert_json(out);
        assert_contains(out, "{\"version\":1,\"profile\":\"virtual-host-density\",\"reasons\":[\"KSM already shares pages");
        free(out);
        assert_int_equal(ctl(e, &out, "profile", "--recommended", NULL), 0);
        assert_contains(out, "profile virtual-host-density applied");
        free(out);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_int_equal(ctl(e, &out, "recommend", "x", NULL), 2);
        free(out);
        stop(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_json_checker_rejects_what_it_should),
                cmocka_unit_test_setup_teardown(test_status_shows_profile_apply_counts_libvirt_and_balancer, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_profile_list_marks_the_active_one_and_shows_broken_ones, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_profile_show_names_the_file_and_line_of_every_setting, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_profile_switch_applies_new_values_and_restores_keys_only_the_old_one_set, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_failed_switch_leaves_the_old_profile_applied_and_says_why, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_off_restores_everything_and_the_daemon_keeps_running, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_off_with_a_value_changed_behind_our_back_does_not_say_every, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_reload_applies_the_changed_configuration_and_reports_a_bad_one, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_json_of_domains_and_plan_stays_valid_with_a_quote_in_a_domain_name, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_every_json_answer_validates_against_the_schema_with_hostile_names, setup, tl_env_teardown),
                cmocka_unit_test(test_json_error_without_a_daemon_is_json_with_exit_3),
                cmocka_unit_test(test_schema_and_man_page_cover_every_command),
                cmocka_unit_test_setup_teardown(test_balancer_without_a_movable_vm_samples_nothing_and_says_why, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_journal_failure_on_switch_is_logged_once_and_everything_is_rolled_back, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_verify_shows_drift_with_exit_1_and_names_the_sysctl_d_conflict, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_ksm_auto_plan_is_the_same_for_apply_verify_status_and_check_config, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_ksm_one_node_with_merged_pages_is_left_merged_at_start_and_stop,
                                                setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_ksm_two_nodes_with_merged_pages_keep_merge_across_nodes_pending,
                                                setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_a_profile_without_ksm_is_not_reported_as_mode_on, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_status_libvirt_and_the_ksm_reason_agree, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_bad_arguments_exit_2, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_control_group_member_may_list_profiles_but_not_switch, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_profile_choice_lasts_across_sighup_and_restart_until_reset, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_edited_profile_in_the_configuration_wins_over_the_choice, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_unusable_persisted_choice_falls_back_to_the_configuration, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_config_without_profile_line_runs_the_built_in_default, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_command_line_profile_is_the_base_of_the_choice, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_choice_is_not_persisted, setup, tl_env_teardown),
                cmocka_unit_test(test_help_completion_and_man_page_list_exactly_the_daemons_commands),
                cmocka_unit_test(test_man_page_documents_every_message_id_and_journal_field),
                cmocka_unit_test_setup_teardown(test_verify_fails_on_a_key_not_on_this_kernel_with_did_you_mean, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_metrics_show_the_profile_and_the_settings_by_section_with_drift, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_metrics_file_is_written_rewritten_moved_by_reload_and_removed_at_stop,
                                                setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_advise_names_rule_and_source_for_the_test_drivers_domain, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_recommend_follows_the_host_and_profile_recommended_switches, setup, tl_env_teardown),
        };
        return cmocka_run_group_tests_name("vmtunectl against the daemon on a fixture root", tests, NULL, NULL);
}
