/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): [hugepages] on this machine's
 * real kernel. A profile reserves 16 more 2 MiB pages, host-wide and then
 * on node 0; the kernel must hold what it got (or the log says "asked N,
 * got M"), and a stop must put the original count back. The originals are
 * read before anything starts and written back by the teardown (and
 * atexit) if a test fails half-way. Skipped where some huge pages are in
 * use already: then a restore would rightly keep them, and this test could
 * not tell. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"

#define HOST_NR "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"
#define HOST_FREE "sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"
#define NODE0_NR "sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
#define EXTRA 16

/* The run's directories (runtime, state, profiles, config: never the
 * host's), with --root / for the real kernel. */
static struct tl_env *env;
static struct tl_daemon daemon_run;
static long original_nr = -1;

static long read_count(const char *rel)
{
        char *s = tl_read("/", rel);
        long v = s ? atol(s) : -1;

        free(s);
        return v;
}

static void write_count(const char *rel, long v)
{
        char abs[300];
        FILE *f;

        snprintf(abs, sizeof(abs), "/%s", rel);
        f = fopen(abs, "w");
        if (!f)
                return;
        fprintf(f, "%ld\n", v);
        fclose(f);
}

/* The safety net: whatever happened, the host-wide pool goes back (which
 * takes the per-node pools with it: they are its parts). */
static void restore_machine(void)
{
        if (daemon_run.pid > 0)
                (void) tl_daemon_stop(&daemon_run, SIGTERM);
        if (original_nr >= 0 && read_count(HOST_NR) != original_nr) {
                fprintf(stderr, "host test: putting %s back to %ld\n", HOST_NR, original_nr);
                write_count(HOST_NR, original_nr);
        }
}

static int setup(void **state)
{
        if (!tl_running_as_root())
                return -1;
        if (!tl_exists("/", HOST_NR)) {
                fprintf(stderr, "host test: no 2 MiB huge pages on this kernel\n");
                return -1;
        }
        original_nr = read_count(HOST_NR);
        if (original_nr < 0 || read_count(HOST_FREE) != original_nr) {
                fprintf(stderr, "host test: huge pages in use here; not testing on this machine\n");
                original_nr = -1;
                return -1;
        }
        env = tl_env_setup("vmtuned-host-hugepages");
        snprintf(env->root, sizeof(env->root), "/");
        tl_env_set_argv(env, NULL, true);
        tl_write(env->dir, "vmtuned.conf", "[vmtuned]\nprofile = hp\nlibvirt_uri = test:///default\n"
                                          "[balancer]\nenabled = no\n");
        atexit(restore_machine);
        return 0;
}

static int teardown(void **state)
{
        restore_machine();
        tl_daemon_free(&daemon_run);
        return env ? tl_env_teardown((void **) &env) : 0;
}

/* Apply a [hugepages] profile, check what the kernel got in rel, stop,
 * check the original is back. */
static void reserve_and_give_back(const char *profile, const char *rel, long want)
{
        long before = read_count(rel), got;
        char *err;

        tl_write(env->profiles, "hp.conf", profile);
        tl_assert_daemon_starts(&daemon_run, env->argv);
        got = read_count(rel);
        err = tl_daemon_stderr(&daemon_run);
        fprintf(stderr, "%s: %ld before, asked %ld, got %ld\n", rel, before, want, got);
        if (got != want) {
                char msg[128];

                /* fragmented memory: fewer, and the log says so */
                snprintf(msg, sizeof(msg), "asked %ld, got %ld", want, got);
                if (!strstr(err, msg))
                        fail_msg("%s is %ld, want %ld, and the log does not say \"%s\":\n%s", rel, got, want, msg,
                                 err);
        }
        free(err);
        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
        tl_daemon_free(&daemon_run);
        daemon_run = (struct tl_daemon){};
        assert_int_equal(read_count(rel), before);
        assert_int_equal(read_count(HOST_NR), original_nr);
        assert_false(tl_exists(env->run, "rollback"));
}

static void test_host_wide_pages_are_reserved_and_given_back(void **state)
{
        char profile[128];

        snprintf(profile, sizeof(profile), "[hugepages]\ntotal = %ld\n", original_nr + EXTRA);
        reserve_and_give_back(profile, HOST_NR, original_nr + EXTRA);
}

static void test_node0_pages_are_reserved_and_given_back(void **state)
{
        char profile[128];
        long node0 = read_count(NODE0_NR);

        if (node0 < 0)
                skip(); /* no NUMA sysfs */
        /* 16 pages of 2 MiB: "32M" as an amount of memory */
        snprintf(profile, sizeof(profile), "[hugepages]\nper_node = %ldM\n", (node0 + EXTRA) * 2);
        reserve_and_give_back(profile, NODE0_NR, node0 + EXTRA);
}

/* The pool comes back after kill -9 + restart + stop, and at a switch to
 * a profile without [hugepages] while the daemon runs. */
static void test_pages_come_back_after_kill_restart_and_a_switch(void **state)
{
        char profile[128], *out = NULL;

        snprintf(profile, sizeof(profile), "[hugepages]\ntotal = %ld\n", original_nr + EXTRA);
        tl_write(env->profiles, "hp.conf", profile);
        tl_write(env->profiles, "plain.conf", "[main]\nsummary = nothing to reserve\n");

        tl_assert_daemon_starts(&daemon_run, env->argv);
        assert_int_equal(read_count(HOST_NR), original_nr + EXTRA);
        assert_int_equal(tl_daemon_stop(&daemon_run, SIGKILL), 128 + SIGKILL);
        tl_daemon_free(&daemon_run);
        daemon_run = (struct tl_daemon){};
        assert_int_equal(read_count(HOST_NR), original_nr + EXTRA); /* a crash restores nothing */
        assert_true(tl_exists(env->run, "rollback"));

        /* The next start finds the journal: the original stays recorded. */
        tl_assert_daemon_starts(&daemon_run, env->argv);
        assert_int_equal(read_count(HOST_NR), original_nr + EXTRA);
        assert_int_equal(tl_vmtunectl(env->run, &out, "profile", "plain", NULL), 0);
        free(out);
        assert_int_equal(read_count(HOST_NR), original_nr);
        assert_int_equal(tl_vmtunectl(env->run, &out, "profile", "hp", NULL), 0);
        free(out);
        assert_int_equal(read_count(HOST_NR), original_nr + EXTRA);
        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
        tl_daemon_free(&daemon_run);
        daemon_run = (struct tl_daemon){};
        assert_int_equal(read_count(HOST_NR), original_nr);
        assert_false(tl_exists(env->run, "rollback"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_host_wide_pages_are_reserved_and_given_back),
                cmocka_unit_test(test_node0_pages_are_reserved_and_given_back),
                cmocka_unit_test(test_pages_come_back_after_kill_restart_and_a_switch),
        };
        return cmocka_run_group_tests_name("[hugepages] on the real kernel", tests, setup, teardown);
}
