/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): vmtuned's metrics read by the
 * real thing. Debian's prometheus-node-exporter runs with only its textfile
 * collector, pointed at a temporary directory, on a free loopback port;
 * vmtuned runs on a fixture root (it changes nothing on this machine) with
 * metrics_file= in that directory and a domain whose name needs escaping;
 * the test fetches http://127.0.0.1:PORT/metrics and finds vmtuned's
 * series there with sane values, and node_exporter's own verdict on the
 * file (node_textfile_scrape_error 0). Then `promtool check metrics`
 * (Debian's prometheus package) lints `vmtunectl metrics`, and `promtool
 * test rules` runs the README's alert rules on made-up series. Everything it
 * started is stopped, also when an assertion fails. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/util.h"
#include "testlib.h"

#define NODE_EXPORTER "/usr/bin/prometheus-node-exporter"
#define PROMTOOL "/usr/bin/promtool"

/* Quote, backslash and non-ASCII: each must come back from node_exporter
 * as the same escaped label value. */
#define DOMAIN_XML_NAME "web&quot;01\\x-\xc3\xa9t\xc3\xa9"
#define DOMAIN_NAME "web\"01\\x-\xc3\xa9t\xc3\xa9"
#define DOMAIN_LABEL "domain=\"web\\\"01\\\\x-\xc3\xa9t\xc3\xa9\""

static pid_t exporter_pid;

static void exporter_stop(void)
{
        if (exporter_pid <= 0)
                return;
        (void) kill(exporter_pid, SIGTERM);
        (void) waitpid(exporter_pid, NULL, 0);
        exporter_pid = 0;
}

/* A loopback port nobody listens on now (the kernel's choice). */
static int free_port(void)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port;

        assert_true(fd >= 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        port = ntohs(sa.sin_port);
        close(fd);
        return port;
}

/* GET http://127.0.0.1:port/metrics: the body (malloc'd), or NULL while
 * nothing answers. */
static char *http_get_metrics(int port)
{
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        static const char req[] = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        char *buf = NULL, *body;
        size_t size = 0, cap = 0;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ssize_t n;

        assert_true(fd >= 0);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                close(fd);
                return NULL;
        }
        assert_int_equal(write(fd, req, strlen(req)), (ssize_t) strlen(req));
        do {
                if (cap - size < 65536) {
                        cap = cap * 2 + 65536;
                        buf = realloc(buf, cap + 1);
                        assert_non_null(buf);
                }
                n = read(fd, buf + size, cap - size);
                size += n > 0 ? (size_t) n : 0;
        } while (n > 0 || (n < 0 && errno == EINTR));
        close(fd);
        buf[size] = '\0';
        if (strncmp(buf, "HTTP/1.", 7) != 0 || strncmp(buf + 8, " 200 ", 5) != 0 ||
            !(body = strstr(buf, "\r\n\r\n")))
                fail_msg("node_exporter answered:\n%.2000s", buf);
        body = strdup(body + 4);
        free(buf);
        return body;
}

static void assert_contains(const char *text, const char *want)
{
        if (!strstr(text, want))
                fail_msg("expected \"%s\" in:\n%s", want, text);
}

/* The value of the sample line that begins with series (name and labels). */
static double sample_value(const char *text, const char *series)
{
        _cleanup_free_ char *needle = xasprintf("\n%s ", series);
        const char *p = strstr(text, needle);

        if (!p)
                fail_msg("no series %s in:\n%s", series, text);
        return strtod(p + strlen(needle), NULL);
}

static const char test_profile[] =
        "[main]\n"
        "summary = metrics host test\n"
        "[sysctl]\n"
        "vm.swappiness = 10\n"
        "vm.dirty_ratio = 40\n"
        "vm.no_such_knob = 1\n";

static int setup(void **state)
{
        struct tl_env *e;

        if (!tl_running_as_root())
                return -1;
        if (access(NODE_EXPORTER, X_OK) < 0) {
                fprintf(stderr, "%s missing: make deps-host installs prometheus-node-exporter\n", NODE_EXPORTER);
                return -1;
        }
        e = tl_env_setup("vmtuned-metrics");
        tl_write(e->root, "proc/sys/vm/swappiness", "60\n");
        tl_write(e->root, "proc/sys/vm/dirty_ratio", "20\n");
        tl_write(e->root, "proc/sys/kernel/numa_balancing", "1\n");
        tl_write_sampled_domain(e->root, DOMAIN_NAME, 4242);
        tl_write(e->dir, "node.xml",
                 "<node><domain type='test'><name>" DOMAIN_XML_NAME "</name><memory unit='MiB'>1024</memory>"
                 "<vcpu>1</vcpu><os><type>hvm</type></os></domain></node>\n");
        tl_write(e->profiles, "test.conf", test_profile);
        tl_write(e->dir, "textfile/.keep", "");
        tl_env_set_argv(e, NULL, true);
        *state = e;
        return 0;
}

static int teardown(void **state)
{
        exporter_stop();
        return tl_env_teardown(state);
}

static void exporter_start(const char *dir, int port)
{
        _cleanup_free_ char *textfile = xasprintf("--collector.textfile.directory=%s/textfile", dir);
        _cleanup_free_ char *listen = xasprintf("--web.listen-address=127.0.0.1:%d", port);
        _cleanup_free_ char *log = xasprintf("%s/node-exporter.log", dir);
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                FILE *f = freopen(log, "w", stderr);

                (void) f;
                execl(NODE_EXPORTER, NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                      textfile, listen, (char *) NULL);
                _exit(127);
        }
        exporter_pid = pid;
}

/* What node_exporter serves once vmtuned has written the file and the
 * balancer has measured (the node series come with its second tick). */
static char *scrape_until(const struct tl_env *e, int port, const char *want)
{
        char *body = NULL;

        for (int i = 0; i < 150; i++) {
                free(body);
                body = http_get_metrics(port);
                if (body && strstr(body, want))
                        return body;
                usleep(100 * 1000);
        }
        fail_msg("no \"%s\" from node_exporter on port %d after 15 s:\n%s\n(its log: %s/node-exporter.log)", want,
                 port, body ? body : "(no answer)", e->dir);
        return NULL;
}

static void test_node_exporter_serves_vmtuned_metrics_and_promtool_finds_them_clean(void **state)
{
        struct tl_env *e = *state;
        char conf[2048], *body, *out = NULL;
        int port = free_port();
        double now = (double) time(NULL), start;

        snprintf(conf, sizeof(conf), "[vmtuned]\nprofile = test\nlibvirt_uri = test://%s/node.xml\n"
                 "metrics_file = %s/textfile/vmtuned.prom\n"
                 "[balancer]\nkernel_numa_balancing = off\ninterval = 1\n", e->dir, e->dir);
        tl_write(e->dir, "vmtuned.conf", conf);
        exporter_start(e->dir, port);
        tl_assert_daemon_starts(&e->d, e->argv);

        body = scrape_until(e, port, "\nvmtuned_node_load_ratio{node=\"0\"} ");
        /* node_exporter parsed the whole file: one bad line and it drops it. */
        assert_true(sample_value(body, "node_textfile_scrape_error") == 0);
        assert_contains(body, "\nvmtuned_profile_info{profile=\"test\",source=\"configuration-file\"} 1\n");
        assert_true(sample_value(body, "vmtuned_applied") == 1);
        assert_true(sample_value(body, "vmtuned_settings{section=\"sysctl\",state=\"ok\"}") == 3);
        assert_true(sample_value(body, "vmtuned_settings{section=\"sysctl\",state=\"skipped\"}") == 1);
        assert_true(sample_value(body, "vmtuned_settings{section=\"sysctl\",state=\"drifted\"}") == 0);
        assert_true(sample_value(body, "vmtuned_libvirt_connected") == 1);
        assert_true(sample_value(body, "vmtuned_domains_running") == 1);
        start = sample_value(body, "vmtuned_start_time_seconds");
        if (start < now - 5 || start > now + 60)
                fail_msg("vmtuned_start_time_seconds %f, the test began at %f", start, now);
        assert_true(sample_value(body, "vmtuned_node_memory_total_bytes{node=\"0\"}") == 4294967296.0);
        assert_true(sample_value(body, "vmtuned_node_cpus{node=\"0\"}") == 2);
        assert_true(sample_value(body, "vmtuned_balancer_ticks_total") >= 2);
        assert_contains(body, "\nvmtuned_domain_node_info{" DOMAIN_LABEL ",node=\"0\",uuid=\"");
        assert_contains(body, "\nvmtuned_domain_local_memory_ratio{" DOMAIN_LABEL ",uuid=\"");
        assert_contains(body, "# TYPE vmtuned_balancer_migrated_bytes_total counter\n");
        free(body);

        /* Drift shows at the next rewrite, one balancer interval later. */
        tl_write(e->root, "proc/sys/vm/swappiness", "77\n");
        body = scrape_until(e, port, "\nvmtuned_settings{section=\"sysctl\",state=\"drifted\"} 1\n");
        free(body);

        if (access(PROMTOOL, X_OK) == 0) {
                _cleanup_free_ char *cmd = xasprintf("'%s' -R '%s' metrics | " PROMTOOL " check metrics",
                                                     tl_vmtunectl_bin(), e->run);
                char *const argv[] = { (char *) "/bin/sh", (char *) "-c", cmd, NULL };
                int code = tl_run(argv, &out);

                if (code != 0 || *out)
                        fail_msg("promtool check metrics (exit %d):\n%s", code, out);
                free(out);
        } else {
                fprintf(stderr, "note: %s missing (Debian's prometheus package): lint skipped\n", PROMTOOL);
        }
        assert_int_equal(tl_daemon_stop(&e->d, SIGTERM), 0);
        assert_false(tl_exists(e->dir, "textfile/vmtuned.prom"));
}

/* The README's alert rules, as written there (its ```yaml block). */
static char *readme_rules(void)
{
        _cleanup_free_ char *readme = tl_read(tl_srcdir(), "README.md");
        char *begin, *end;

        assert_non_null(readme);
        begin = strstr(readme, "\n```yaml\ngroups:\n");
        assert_non_null(begin);
        begin += strlen("\n```yaml\n");
        end = strstr(begin, "\n```\n");
        assert_non_null(end);
        return strndup(begin, (size_t) (end - begin + 1));
}

/* promtool's unit test of rules: host h1 drifts for 20 minutes, h2 one
 * minute only; h3 migrates 1 GiB a minute (60 GiB an hour), h4 10 GiB an
 * hour. Only h1 and h3 alert. */
static const char rules_test[] =
        "rule_files: [rules.yml]\n"
        "evaluation_interval: 1m\n"
        "tests:\n"
        "  - interval: 1m\n"
        "    input_series:\n"
        "      - series: 'vmtuned_settings{instance=\"h1\",section=\"sysctl\",state=\"drifted\"}'\n"
        "        values: '0 0 1x30'\n"
        "      - series: 'vmtuned_settings{instance=\"h1\",section=\"sysctl\",state=\"ok\"}'\n"
        "        values: '5x32'\n"
        "      - series: 'vmtuned_settings{instance=\"h2\",section=\"vm\",state=\"drifted\"}'\n"
        "        values: '0 1 0x30'\n"
        "      - series: 'vmtuned_balancer_migrated_bytes_total{instance=\"h3\"}'\n"
        "        values: '0+1073741824x90'\n"
        "      - series: 'vmtuned_balancer_migrated_bytes_total{instance=\"h4\"}'\n"
        "        values: '0+178956970x90'\n"
        "    alert_rule_test:\n"
        "      - eval_time: 10m\n"
        "        alertname: VmtunedSettingsDrifted\n"
        "        exp_alerts: []\n"
        "      - eval_time: 25m\n"
        "        alertname: VmtunedSettingsDrifted\n"
        "        exp_alerts:\n"
        "          - exp_labels: {instance: h1, section: sysctl, severity: warning}\n"
        "            exp_annotations:\n"
        "              summary: 'h1: 1 [sysctl] setting(s) changed since vmtuned applied them (vmtunectl verify)'\n"
        "      - eval_time: 80m\n"
        "        alertname: VmtunedBalancerMigratingALot\n"
        "        exp_alerts:\n"
        "          - exp_labels: {instance: h3, severity: warning}\n"
        "            exp_annotations:\n"
        "              summary: 'h3: the NUMA balancer migrated more than 20 GiB of VM memory in the last hour "
        "(vmtunectl plan)'\n";

static void test_readme_alert_rules_fire_on_drift_and_on_heavy_migration_only(void **state)
{
        struct tl_env *e = *state;
        _cleanup_free_ char *rules = readme_rules();
        _cleanup_free_ char *test = xasprintf("%s/rules-test.yml", e->dir);
        _cleanup_free_ char *rules_file = xasprintf("%s/rules.yml", e->dir);
        char *const check[] = { (char *) PROMTOOL, (char *) "check", (char *) "rules", rules_file, NULL };
        char *const argv[] = { (char *) PROMTOOL, (char *) "test", (char *) "rules", test, NULL };
        char *out = NULL;
        int code;

        if (access(PROMTOOL, X_OK) < 0)
                skip();
        tl_write(e->dir, "rules.yml", rules);
        tl_write(e->dir, "rules-test.yml", rules_test);
        code = tl_run(check, &out);
        if (code != 0)
                fail_msg("promtool check rules (exit %d):\n%s", code, out);
        free(out);
        code = tl_run(argv, &out);
        if (code != 0)
                fail_msg("promtool test rules (exit %d):\n%s", code, out);
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_node_exporter_serves_vmtuned_metrics_and_promtool_finds_them_clean,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_readme_alert_rules_fire_on_drift_and_on_heavy_migration_only,
                                                setup, teardown),
        };
        /* Also on an abort: the node_exporter we started must not outlive us. */
        atexit(exporter_stop);
        return cmocka_run_group_tests_name("vmtuned metrics read by node_exporter and promtool", tests, NULL, NULL);
}
