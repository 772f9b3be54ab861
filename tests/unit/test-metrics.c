/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The metrics' text (src/daemon/metrics-format.c): a snapshot gives
 * exactly the text a collector reads, and label values from outside
 * (domain names) can hold any byte without breaking a line of it: one
 * malformed line makes node_exporter drop the whole file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "daemon/metrics.h"

static char *formatted(const struct metrics_snapshot *s)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        metrics_format(f, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_escaped(const char *in, const char *want)
{
        char *got = metrics_label_escape(in);

        if (strcmp(got, want) != 0)
                fail_msg("metrics_label_escape: got \"%s\", want \"%s\"", got, want);
        free(got);
}

/* --- a checker of the text format, independent of the writer ------------ */

static bool name_char(char c, bool first)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
               (!first && c >= '0' && c <= '9');
}

/* The length of a metric or label name at p, 0 if there is none. */
static size_t name_len(const char *p)
{
        size_t n = 0;

        while (name_char(p[n], n == 0))
                n++;
        return n;
}

/* A quoted label value at p (after its '"'): its length up to the closing
 * quote, or -1 if an escape is not one of \\ \" \n or the line ends. */
static long value_len(const char *p)
{
        long n = 0;

        for (; p[n] != '"'; n++) {
                if (p[n] == '\0' || p[n] == '\n')
                        return -1;
                if (p[n] == '\\') {
                        if (p[n + 1] != '\\' && p[n + 1] != '"' && p[n + 1] != 'n')
                                return -1;
                        n++;
                }
        }
        return n;
}

/* One sample line: name{label="value",...} number. Returns NULL if fine,
 * else what is wrong. *ret_name gets the metric name. */
static const char *check_sample(const char *line, char *ret_name, size_t size)
{
        size_t n = name_len(line);
        const char *p = line + n;
        char *end;

        if (n == 0 || n >= size)
                return "no metric name";
        memcpy(ret_name, line, n);
        ret_name[n] = '\0';
        if (*p == '{') {
                p++;
                while (*p != '}') {
                        long v;

                        n = name_len(p);
                        if (n == 0 || p[n] != '=' || p[n + 1] != '"')
                                return "bad label";
                        p += n + 2;
                        v = value_len(p);
                        if (v < 0)
                                return "bad label value";
                        p += v + 1;
                        if (*p == ',')
                                p++;
                        else if (*p != '}')
                                return "no ',' or '}' after a label";
                }
                p++;
        }
        if (*p != ' ')
                return "no space before the value";
        p++;
        if (strcmp(p, "NaN") == 0 || strcmp(p, "+Inf") == 0 || strcmp(p, "-Inf") == 0)
                return NULL;
        (void) strtod(p, &end);
        return end != p && *end == '\0' ? NULL : "value is not a number";
}

/* Every line is "# HELP name text", "# TYPE name type" or a sample; each
 * family's HELP and TYPE come before its samples, once; the whole text is
 * UTF-8 and ends in a line feed. Fails the test with the line otherwise. */
static void assert_valid_exposition(const char *text)
{
        char family[256] = "", seen[64][256];
        size_t n_seen = 0;
        bool summary = false;
        char *copy = strdup(text), *save = NULL;

        assert_non_null(copy);
        for (const char *p = text; *p;) {
                bool valid;

                p += utf8_sequence((const unsigned char *) p, &valid);
                if (!valid)
                        fail_msg("not UTF-8 at byte %zu", (size_t) (p - text));
        }
        assert_true(text[0] == '\0' || text[strlen(text) - 1] == '\n');
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[256];
                const char *err;

                if (strncmp(line, "# HELP ", 7) == 0) {
                        size_t len = name_len(line + 7);

                        if (len == 0 || line[7 + len] != ' ')
                                fail_msg("bad HELP line: %s", line);
                        snprintf(family, sizeof(family), "%.*s", (int) len, line + 7);
                        for (size_t i = 0; i < n_seen; i++)
                                if (strcmp(seen[i], family) == 0)
                                        fail_msg("family %s appears twice", family);
                        assert_true(n_seen < 64);
                        snprintf(seen[n_seen++], sizeof(seen[0]), "%s", family);
                        continue;
                }
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        const char *type = line + 7 + strlen(family);

                        if (strncmp(line + 7, family, strlen(family)) != 0 ||
                            (strcmp(type, " gauge") != 0 && strcmp(type, " counter") != 0 &&
                             strcmp(type, " summary") != 0))
                                fail_msg("TYPE line not after its HELP, or an unknown type: %s", line);
                        summary = strcmp(type, " summary") == 0;
                        continue;
                }
                err = check_sample(line, name, sizeof(name));
                if (err)
                        fail_msg("%s: %s", err, line);
                /* a summary's samples are its _sum and _count (no quantiles here) */
                if (summary && strncmp(name, family, strlen(family)) == 0 &&
                    (strcmp(name + strlen(family), "_sum") == 0 || strcmp(name + strlen(family), "_count") == 0))
                        continue;
                if (strcmp(name, family) != 0)
                        fail_msg("sample %s outside its family (%s)", name, family);
                if (strncmp(name, "vmtuned_", 8) != 0)
                        fail_msg("%s: not prefixed vmtuned_", name);
        }
        free(copy);
}

/* --- the tests ---------------------------------------------------------- */

static void test_label_values_escape_backslash_quote_and_line_feed(void **state)
{
        assert_escaped("plain-vm_1", "plain-vm_1");
        assert_escaped("a\"b", "a\\\"b");
        assert_escaped("a\\b", "a\\\\b");
        assert_escaped("a\nb", "a\\nb");
        assert_escaped("\\n", "\\\\n");          /* a backslash then n: not a line feed */
        assert_escaped("\"\\\n", "\\\"\\\\\\n");
        assert_escaped("", "");
        /* Tab and carriage return may stand as they are. */
        assert_escaped("a\tb\rc", "a\tb\rc");
}

static void test_non_ascii_label_values_pass_and_invalid_utf8_is_replaced(void **state)
{
        assert_escaped("vm-\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x90\xa7",
                       "vm-\xc3\xa9t\xc3\xa9-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x90\xa7");
        /* A lone continuation byte, a truncated sequence, an overlong '/'. */
        assert_escaped("a\x80z", "a\xef\xbf\xbdz");
        assert_escaped("a\xe6\x97z", "a\xef\xbf\xbdz");
        assert_escaped("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");
}

static unsigned node0[] = { 0 }, node01[] = { 0, 1 };

/* Everything the daemon can know, as `vmtunectl metrics` would print it. */
static const struct metrics_snapshot full = {
        .version = "0.1.0",
        .start_time_usec = 1764800000123456,
        .profile = "virtual-host",
        .profile_source = "configuration-file",
        .applied = true,
        .applied_since_usec = 1764800001000000,
        .apply_changed = 5, .apply_already_set = 2, .apply_skipped = 1,
        .have_verify = true,
        .sections = (struct metrics_section[]){
                { .name = (char *) "sysctl", .count = { 4, 0, 1, 0 } },
                { .name = (char *) "vm", .count = { 1, 1, 0, 1 } },
        },
        .n_sections = 2,
        .libvirt_connected = true,
        .n_domains_running = 2,
        .domains = (struct metrics_domain[]){
                { .name = (char *) "web-1", .uuid = (char *) "0b1e0f2c-7a63-4b7e-9c39-1e3c1f7a0a01",
                  .nodes = node0, .n_nodes = 1, .local_memory_ratio = 0.75 },
                { .name = (char *) "db \"prod\"\\x\n2", .uuid = (char *) "9d1a2b3c-0000-4000-8000-000000000002",
                  .nodes = node01, .n_nodes = 2, .local_memory_ratio = -1 },
        },
        .n_domains = 2,
        .have_balancer = true,
        .balancer_ticks = 120, .balancer_moves = { 1, 2, 0, 1, 4 }, .balancer_moves_failed = 1,
        .balancer_reverts = 1,
        .balancer_last_tick_duration_usec = 1250, .balancer_tick_duration_usec_sum = 61000000,
        .balancer_tick_count = 119,
        .balancer_migrated_bytes = 1536ull << 20,
        .balancer_last_tick_usec = 1764800600500000,
        .nodes = (struct metrics_node[]){
                { .id = 0, .cpus = 4, .nr_running = 3, .mem_total_bytes = 8ull << 30, .mem_free_bytes = 2ull << 30 },
                { .id = 1, .cpus = 4, .nr_running = 0.5, .mem_total_bytes = 8ull << 30, .mem_free_bytes = 6ull << 30 },
        },
        .n_nodes = 2,
        .have_ksm = true,
        .ksm_pages_sharing = 2048,
        .ksm_general_profit_bytes = -4096,
};

static const char full_text[] =
        "# HELP vmtuned_build_info The vmtuned version running, always 1.\n"
        "# TYPE vmtuned_build_info gauge\n"
        "vmtuned_build_info{version=\"0.1.0\"} 1\n"
        "# HELP vmtuned_start_time_seconds When the daemon started, in seconds since the epoch.\n"
        "# TYPE vmtuned_start_time_seconds gauge\n"
        "vmtuned_start_time_seconds 1764800000.123456\n"
        "# HELP vmtuned_profile_info The profile selected, and who chose it (command-line, vmtunectl, "
        "configuration-file, built-in-default), always 1.\n"
        "# TYPE vmtuned_profile_info gauge\n"
        "vmtuned_profile_info{profile=\"virtual-host\",source=\"configuration-file\"} 1\n"
        "# HELP vmtuned_applied 1 if the profile's settings are in place, 0 after vmtunectl off.\n"
        "# TYPE vmtuned_applied gauge\n"
        "vmtuned_applied 1\n"
        "# HELP vmtuned_dry_run 1 if the daemon runs with --dry-run and writes nothing.\n"
        "# TYPE vmtuned_dry_run gauge\n"
        "vmtuned_dry_run 0\n"
        "# HELP vmtuned_last_apply_timestamp_seconds When the profile was last applied, in seconds since the "
        "epoch.\n"
        "# TYPE vmtuned_last_apply_timestamp_seconds gauge\n"
        "vmtuned_last_apply_timestamp_seconds 1764800001.000000\n"
        "# HELP vmtuned_last_apply_settings Settings of the last apply: written (changed), already at the value, "
        "or skipped.\n"
        "# TYPE vmtuned_last_apply_settings gauge\n"
        "vmtuned_last_apply_settings{result=\"changed\"} 5\n"
        "vmtuned_last_apply_settings{result=\"already_set\"} 2\n"
        "vmtuned_last_apply_settings{result=\"skipped\"} 1\n"
        "# HELP vmtuned_settings Settings of the applied profile by section and by what the kernel holds now: "
        "ok, adjusted (what the kernel made of the write), drifted (changed since), skipped (not on this "
        "kernel).\n"
        "# TYPE vmtuned_settings gauge\n"
        "vmtuned_settings{section=\"sysctl\",state=\"ok\"} 4\n"
        "vmtuned_settings{section=\"sysctl\",state=\"adjusted\"} 0\n"
        "vmtuned_settings{section=\"sysctl\",state=\"drifted\"} 1\n"
        "vmtuned_settings{section=\"sysctl\",state=\"skipped\"} 0\n"
        "vmtuned_settings{section=\"vm\",state=\"ok\"} 1\n"
        "vmtuned_settings{section=\"vm\",state=\"adjusted\"} 1\n"
        "vmtuned_settings{section=\"vm\",state=\"drifted\"} 0\n"
        "vmtuned_settings{section=\"vm\",state=\"skipped\"} 1\n"
        "# HELP vmtuned_libvirt_connected 1 while the daemon is connected to libvirt.\n"
        "# TYPE vmtuned_libvirt_connected gauge\n"
        "vmtuned_libvirt_connected 1\n"
        "# HELP vmtuned_domains_running Running libvirt domains the daemon follows.\n"
        "# TYPE vmtuned_domains_running gauge\n"
        "vmtuned_domains_running 2\n"
        "# HELP vmtuned_domain_node_info The NUMA nodes a running domain's vCPUs may run on, one series per "
        "node, always 1.\n"
        "# TYPE vmtuned_domain_node_info gauge\n"
        "vmtuned_domain_node_info{domain=\"web-1\",uuid=\"0b1e0f2c-7a63-4b7e-9c39-1e3c1f7a0a01\",node=\"0\"} 1\n"
        "vmtuned_domain_node_info{domain=\"db \\\"prod\\\"\\\\x\\n2\",uuid=\"9d1a2b3c-0000-4000-8000-000000000002\","
        "node=\"0\"} 1\n"
        "vmtuned_domain_node_info{domain=\"db \\\"prod\\\"\\\\x\\n2\",uuid=\"9d1a2b3c-0000-4000-8000-000000000002\","
        "node=\"1\"} 1\n"
        "# HELP vmtuned_domain_local_memory_ratio Share of a running domain's resident memory on the nodes its "
        "vCPUs run on (1: all local).\n"
        "# TYPE vmtuned_domain_local_memory_ratio gauge\n"
        "vmtuned_domain_local_memory_ratio{domain=\"web-1\",uuid=\"0b1e0f2c-7a63-4b7e-9c39-1e3c1f7a0a01\"} 0.75\n"
        "# HELP vmtuned_balancer_ticks_total Balancer ticks since start.\n"
        "# TYPE vmtuned_balancer_ticks_total counter\n"
        "vmtuned_balancer_ticks_total 120\n"
        "# HELP vmtuned_balancer_moves_total Moves of a VM's vCPUs or memory carried out since start, by reason: "
        "rebalance (vCPUs to a less busy node), place (a new VM), swap (one half of a swap), revert (probation "
        "failed), memory (memory following its vCPUs).\n"
        "# TYPE vmtuned_balancer_moves_total counter\n"
        "vmtuned_balancer_moves_total{reason=\"rebalance\"} 1\n"
        "vmtuned_balancer_moves_total{reason=\"place\"} 2\n"
        "vmtuned_balancer_moves_total{reason=\"swap\"} 0\n"
        "vmtuned_balancer_moves_total{reason=\"revert\"} 1\n"
        "vmtuned_balancer_moves_total{reason=\"memory\"} 4\n"
        "# HELP vmtuned_balancer_moves_failed_total Moves that failed since start.\n"
        "# TYPE vmtuned_balancer_moves_failed_total counter\n"
        "vmtuned_balancer_moves_failed_total 1\n"
        "# HELP vmtuned_balancer_reverts_total Moves undone since start because the imbalance did not improve "
        "(probation failed).\n"
        "# TYPE vmtuned_balancer_reverts_total counter\n"
        "vmtuned_balancer_reverts_total 1\n"
        "# HELP vmtuned_balancer_migrated_bytes_total VM memory migrated between NUMA nodes since start.\n"
        "# TYPE vmtuned_balancer_migrated_bytes_total counter\n"
        "vmtuned_balancer_migrated_bytes_total 1610612736\n"
        "# HELP vmtuned_balancer_last_tick_timestamp_seconds When the balancer last ticked, in seconds since the "
        "epoch.\n"
        "# TYPE vmtuned_balancer_last_tick_timestamp_seconds gauge\n"
        "vmtuned_balancer_last_tick_timestamp_seconds 1764800600.500000\n"
        "# HELP vmtuned_balancer_last_tick_duration_seconds How long the last balancer tick took: sampling, the "
        "decision and the moves it carried out.\n"
        "# TYPE vmtuned_balancer_last_tick_duration_seconds gauge\n"
        "vmtuned_balancer_last_tick_duration_seconds 0.001250\n"
        "# HELP vmtuned_balancer_tick_seconds How long balancer ticks took since start (rate of _sum over rate of "
        "_count: the mean).\n"
        "# TYPE vmtuned_balancer_tick_seconds summary\n"
        "vmtuned_balancer_tick_seconds_sum 61.000000\n"
        "vmtuned_balancer_tick_seconds_count 119\n"
        "# HELP vmtuned_node_cpus CPUs of the NUMA node.\n"
        "# TYPE vmtuned_node_cpus gauge\n"
        "vmtuned_node_cpus{node=\"0\"} 4\n"
        "vmtuned_node_cpus{node=\"1\"} 4\n"
        "# HELP vmtuned_node_runnable_threads Runnable threads on the node's CPUs, averaged over the balancer "
        "interval.\n"
        "# TYPE vmtuned_node_runnable_threads gauge\n"
        "vmtuned_node_runnable_threads{node=\"0\"} 3\n"
        "vmtuned_node_runnable_threads{node=\"1\"} 0.5\n"
        "# HELP vmtuned_node_load_ratio Runnable threads per CPU of the node (the balancer's load).\n"
        "# TYPE vmtuned_node_load_ratio gauge\n"
        "vmtuned_node_load_ratio{node=\"0\"} 0.75\n"
        "vmtuned_node_load_ratio{node=\"1\"} 0.125\n"
        "# HELP vmtuned_node_memory_total_bytes Memory of the NUMA node.\n"
        "# TYPE vmtuned_node_memory_total_bytes gauge\n"
        "vmtuned_node_memory_total_bytes{node=\"0\"} 8589934592\n"
        "vmtuned_node_memory_total_bytes{node=\"1\"} 8589934592\n"
        "# HELP vmtuned_node_memory_free_bytes Free memory of the NUMA node.\n"
        "# TYPE vmtuned_node_memory_free_bytes gauge\n"
        "vmtuned_node_memory_free_bytes{node=\"0\"} 2147483648\n"
        "vmtuned_node_memory_free_bytes{node=\"1\"} 6442450944\n"
        "# HELP vmtuned_ksm_pages_sharing Pages KSM deduplicated: how many more sites share a merged page.\n"
        "# TYPE vmtuned_ksm_pages_sharing gauge\n"
        "vmtuned_ksm_pages_sharing 2048\n"
        "# HELP vmtuned_ksm_general_profit_bytes Memory KSM saves, its metadata subtracted (general_profit; 0 "
        "before Linux 6.1).\n"
        "# TYPE vmtuned_ksm_general_profit_bytes gauge\n"
        "vmtuned_ksm_general_profit_bytes -4096\n";

static void test_a_full_snapshot_gives_exactly_this_text(void **state)
{
        char *got = formatted(&full);

        if (strcmp(got, full_text) != 0)
                fail_msg("got:\n%s", got);
        assert_valid_exposition(got);
        free(got);
}

/* Off, no libvirt, no balancer, no KSM, a domain without a process: the
 * families without a figure are left out, not written as zeros that would
 * look like measurements, nor as a HELP and TYPE without a sample. */
static void test_what_the_daemon_does_not_know_is_left_out(void **state)
{
        /* A domain without a process (libvirt's test driver): no node, no memory. */
        struct metrics_domain dom = { .name = (char *) "test", .uuid = (char *) "u", .local_memory_ratio = -1 };
        struct metrics_snapshot s = {
                .version = "0.1.0", .profile = "balanced", .profile_source = "vmtunectl", .dry_run = true,
                .domains = &dom, .n_domains = 1, .n_domains_running = 1,
        };
        char *got = formatted(&s);

        assert_valid_exposition(got);
        assert_non_null(strstr(got, "\nvmtuned_applied 0\n"));
        assert_non_null(strstr(got, "\nvmtuned_dry_run 1\n"));
        assert_non_null(strstr(got, "\nvmtuned_libvirt_connected 0\n"));
        assert_non_null(strstr(got, "\nvmtuned_domains_running 1\n"));
        assert_non_null(strstr(got, "\nvmtuned_profile_info{profile=\"balanced\",source=\"vmtunectl\"} 1\n"));
        assert_null(strstr(got, "vmtuned_settings"));
        assert_null(strstr(got, "vmtuned_last_apply_timestamp_seconds"));
        assert_null(strstr(got, "vmtuned_balancer_"));
        assert_null(strstr(got, "vmtuned_node_"));
        assert_null(strstr(got, "vmtuned_domain_"));
        assert_null(strstr(got, "vmtuned_ksm_"));
        free(got);
}

/* Hostile domain and profile names: every byte string of the kinds a name
 * can hold still gives a text every line of which parses. */
static void test_hostile_names_keep_the_text_valid(void **state)
{
        static const char *const names[] = {
                "\"", "\\", "\n", "\\\"", "}", "{a=\"b\"}", "x\" 1\nvmtuned_applied 0", "\xff\xfe",
                "\xe2\x80\xa8", "tab\there", "cr\rhere", "# HELP", " ", "a,b=c",
        };

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                struct metrics_domain dom = { .name = (char *) names[i], .uuid = (char *) names[i],
                                              .nodes = node0, .n_nodes = 1, .local_memory_ratio = 1 };
                struct metrics_section sec = { .name = (char *) names[i] };
                struct metrics_snapshot s = {
                        .version = names[i], .profile = names[i], .profile_source = names[i], .applied = true,
                        .have_verify = true, .sections = &sec, .n_sections = 1,
                        .domains = &dom, .n_domains = 1, .n_domains_running = 1,
                };
                char *got = formatted(&s);
                size_t lines = 0;

                assert_valid_exposition(got);
                /* The injected "vmtuned_applied 0" stays inside a label. */
                for (const char *p = got; (p = strstr(p, "\nvmtuned_applied ")); p++)
                        lines++;
                assert_int_equal(lines, 1);
                free(got);
        }
}

static void test_node_load_and_odd_numbers_are_numbers_the_format_reads(void **state)
{
        struct metrics_node n[] = {
                { .id = 3, .cpus = 0, .nr_running = 2 },           /* no CPUs: load 0, not a division by zero */
                { .id = 7, .cpus = 3, .nr_running = 1 },
        };
        struct metrics_domain dom = { .name = (char *) "vm", .uuid = (char *) "u", .nodes = node0, .n_nodes = 1,
                                      .local_memory_ratio = 1.0 / 3 };
        struct metrics_snapshot s = { .version = "v", .profile = "p", .profile_source = "s",
                                      .nodes = n, .n_nodes = 2, .domains = &dom, .n_domains = 1 };
        char *got = formatted(&s);

        assert_valid_exposition(got);
        assert_non_null(strstr(got, "\nvmtuned_node_load_ratio{node=\"3\"} 0\n"));
        assert_non_null(strstr(got, "\nvmtuned_node_load_ratio{node=\"7\"} 0.33333333333333331\n"));
        assert_non_null(strstr(got, "\"} 0.33333333333333331\n"));
        free(got);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_label_values_escape_backslash_quote_and_line_feed),
                cmocka_unit_test(test_non_ascii_label_values_pass_and_invalid_utf8_is_replaced),
                cmocka_unit_test(test_a_full_snapshot_gives_exactly_this_text),
                cmocka_unit_test(test_what_the_daemon_does_not_know_is_left_out),
                cmocka_unit_test(test_hostile_names_keep_the_text_valid),
                cmocka_unit_test(test_node_load_and_odd_numbers_are_numbers_the_format_reads),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
