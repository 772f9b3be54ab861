/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The real vmtuned binary on a temporary fixture root: apply, stop, crash
 * recovery, drift, reload and bad configuration. Nothing here touches the
 * machine's own /proc or /sys. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "base/util.h"
#include "testlib.h"

/* A small kernel: the files the test profile touches, with "original"
 * values, plus devices that must not be touched. */
static const struct tl_file kernel_files[] = {
        { "proc/sys/vm/swappiness", "60\n" },
        { "proc/sys/vm/dirty_ratio", "20\n" },
        { "proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n" },
        { "proc/sys/kernel/numa_balancing", "1\n" },
        { "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n" },
        { "sys/kernel/mm/transparent_hugepage/defrag", "always defer defer+madvise [madvise] never\n" },
        { "sys/kernel/mm/ksm/run", "0\n" },
        { "sys/kernel/mm/ksm/pages_to_scan", "100\n" },
        { "sys/block/vda/queue/scheduler", "none [mq-deadline] kyber bfq\n" },
        { "sys/block/vda/queue/read_ahead_kb", "128\n" },
        { "sys/block/vda/queue/nr_requests", "256\n" },
        { "sys/block/vda/vda1/partition", "1\n" },
        { "sys/block/sdb/queue/scheduler", "[none] kyber\n" },
        { "sys/block/sdb/queue/read_ahead_kb", "8192\n" },
        { "sys/block/loop0/queue/scheduler", "[none] mq-deadline kyber bfq\n" },
        { "sys/block/loop0/queue/read_ahead_kb", "128\n" },
};

/* What the test profile should leave in them (selected/normalized value). */
static const struct tl_file applied_values[] = {
        { "proc/sys/vm/swappiness", "10" },
        { "proc/sys/vm/dirty_ratio", "40" },
        { "proc/sys/net/ipv4/tcp_rmem", "4096 87380 16777216" },
        { "proc/sys/kernel/numa_balancing", "0" },
        { "sys/kernel/mm/transparent_hugepage/enabled", "always" },
        { "sys/kernel/mm/transparent_hugepage/defrag", "never" },
        { "sys/kernel/mm/ksm/run", "1" },
        { "sys/kernel/mm/ksm/pages_to_scan", "1250" },
        { "sys/block/vda/queue/scheduler", "bfq" },
        { "sys/block/vda/queue/read_ahead_kb", "4096" },
        { "sys/block/sdb/queue/scheduler", "none" },
        { "sys/block/sdb/queue/read_ahead_kb", "8192" }, /* ">4096": already larger */
        { "sys/block/loop0/queue/scheduler", "none" },   /* loop* not matched by the profile */
        { "sys/block/loop0/queue/read_ahead_kb", "128" },
};

static const char test_profile[] =
        "[main]\n"
        "summary = fixture profile\n"
        "[sysctl]\n"
        "vm.swappiness = 10\n"
        "vm.dirty_ratio = 40\n"
        "net.ipv4.tcp_rmem = 4096 87380 16777216\n"
        "[vm]\n"
        "transparent_hugepages = always\n"
        "transparent_hugepage_defrag = never\n"
        "[ksm]\n"
        "run = 1\n"
        "pages_to_scan = 1250\n"
        "[disk]\n"
        "devices = vd*,sd*\n"
        "scheduler = bfq,none\n"
        "read_ahead_kb = >4096\n";

/* test_profile with swappiness 20. */
static const char changed_profile[] = "[main]\ninclude = test\n[sysctl]\nvm.swappiness = 20\n";

static const char other_profile[] =
        "[main]\n"
        "summary = only swappiness\n"
        "[sysctl]\n"
        "vm.swappiness = 30\n";

static const char good_config[] =
        "[vmtuned]\n"
        "profile = test\n"
        "log_level = debug\n"
        "libvirt_uri = test:///default\n"
        "[balancer]\n"
        "kernel_numa_balancing = off\n";

/* The fixture kernel, both profiles, the good configuration, and the
 * command line that runs the daemon in the foreground on them. */
static int setup(void **state)
{
        struct tl_env *e = tl_env_setup("vmtuned-sys");

        tl_write_files(e->root, kernel_files, ARRAY_SIZE(kernel_files));
        tl_write(e->profiles, "test.conf", test_profile);
        tl_write(e->profiles, "other.conf", other_profile);
        tl_write(e->dir, "vmtuned.conf", good_config);
        tl_env_set_argv(e, NULL, true);
        *state = e;
        return 0;
}

static void assert_value(const struct tl_env *e, const char *rel, const char *want)
{
        tl_assert_value(e->root, rel, want);
}

static void assert_applied(const struct tl_env *e)
{
        for (size_t i = 0; i < ARRAY_SIZE(applied_values); i++)
                assert_value(e, applied_values[i].rel, applied_values[i].content);
}

static void assert_originals(const struct tl_env *e)
{
        tl_assert_originals(e->root, kernel_files, ARRAY_SIZE(kernel_files));
}

/* Every fixture file byte for byte as written: "changes nothing". */
static void assert_untouched(const struct tl_env *e)
{
        for (size_t i = 0; i < ARRAY_SIZE(kernel_files); i++) {
                char *s = tl_read(e->root, kernel_files[i].rel);

                assert_non_null(s);
                if (strcmp(s, kernel_files[i].content) != 0)
                        fail_msg("%s was changed to '%s'", kernel_files[i].rel, s);
                free(s);
        }
}

static void start_ok(struct tl_env *e, struct tl_daemon *d)
{
        tl_assert_daemon_starts(d, e->argv);
}

static void test_apply_sets_every_file_and_sigterm_restores_every_original(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        start_ok(e, &d);
        assert_applied(e);
        assert_true(tl_exists(e->run, "rollback"));
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_originals(e);
        assert_false(tl_exists(e->run, "rollback"));
        assert_true(strstr(d.notifications, "STOPPING=1") != NULL);
        tl_daemon_free(&d);
}

static void test_sigint_restores_like_sigterm(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        start_ok(e, &d);
        assert_int_equal(tl_daemon_stop(&d, SIGINT), 0);
        assert_originals(e);
        tl_daemon_free(&d);
}

static void test_kill9_then_restart_restores_values_from_before_first_start(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d1, d2;

        start_ok(e, &d1);
        assert_int_equal(tl_daemon_stop(&d1, SIGKILL), 128 + SIGKILL);
        assert_applied(e); /* nobody restored: the journal is all we have */
        assert_true(tl_exists(e->run, "rollback"));

        start_ok(e, &d2);
        assert_applied(e);
        char *err = tl_daemon_stderr(&d2);
        assert_non_null(strstr(err, "did not stop cleanly"));
        free(err);
        assert_int_equal(tl_daemon_stop(&d2, SIGTERM), 0);
        assert_originals(e);
        tl_daemon_free(&d1);
        tl_daemon_free(&d2);
}

/* Issue 18: after a crash, the journal's merge_across_nodes goes back only
 * if that needs no unmerge; KSM merged in the meantime, so it stays, the
 * log says why, and run=2 is never written (at the restart or the stop). */
static void test_kill9_then_restart_leaves_merge_across_nodes_while_pages_are_merged(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d1, d2;
        char *err;

        tl_write(e->root, "sys/devices/system/node/has_memory", "0-1\n");
        tl_write(e->root, "sys/kernel/mm/ksm/merge_across_nodes", "1\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_shared", "0\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_sharing", "0\n");
        start_ok(e, &d1);
        /* Two nodes, nothing merged, vmtuned runs KSM: set at once. */
        assert_value(e, "sys/kernel/mm/ksm/merge_across_nodes", "0");
        assert_int_equal(tl_daemon_stop(&d1, SIGKILL), 128 + SIGKILL);
        tl_write(e->root, "sys/kernel/mm/ksm/pages_shared", "1000\n");
        tl_write(e->root, "sys/kernel/mm/ksm/pages_sharing", "1000000\n");

        start_ok(e, &d2);
        assert_value(e, "sys/kernel/mm/ksm/merge_across_nodes", "0");
        assert_value(e, "sys/kernel/mm/ksm/run", "1");
        assert_int_equal(tl_daemon_stop(&d2, SIGTERM), 0);
        assert_value(e, "sys/kernel/mm/ksm/merge_across_nodes", "0");
        assert_value(e, "sys/kernel/mm/ksm/run", "0");
        err = tl_daemon_stderr(&d2);
        assert_non_null(strstr(err, "ksm merge_across_nodes: leaving it at 0 (original 1): 1000000 pages are "
                                    "merged"));
        for (const char *l = strstr(err, "ksm run: "); l; l = strstr(l + 1, "ksm run: "))
                if (strncmp(strstr(l, "-> "), "-> 2", 4) == 0)
                        fail_msg("run=2 written: %.80s", l);
        assert_null(strstr(err, "(run=2"));     /* the module's "unmerging N pages (run=2, ..." */
        free(err);
        tl_daemon_free(&d1);
        tl_daemon_free(&d2);
}

/* A second vmtuned on the same runtime directory once took the first one's
 * live journal for a crash leftover: it restored the first one's values,
 * wrote its own journal over it and ran on without a socket. Now the lock
 * in the runtime directory stops it before it reads or writes anything. */
static void test_second_instance_on_the_same_runtime_directory_exits_and_touches_nothing(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d1, d2;
        char *journal, *err;
        int status = -1;

        start_ok(e, &d1);
        journal = tl_read(e->run, "rollback");
        assert_non_null(journal);

        if (tl_daemon_start(&d2, e->argv, &status) == 0) {
                (void) tl_daemon_stop(&d2, SIGKILL);
                (void) tl_daemon_stop(&d1, SIGKILL);
                fail_msg("a second vmtuned started on the same runtime directory");
        }
        assert_int_equal(status, 1);
        err = tl_daemon_stderr(&d2);
        if (!strstr(err, "another vmtuned (pid ") || !strstr(err, "is running with this runtime directory"))
                fail_msg("no clear refusal from the second instance:\n%s", err);
        free(err);
        assert_applied(e);                         /* the first one's values stay */
        char *after = tl_read(e->run, "rollback");
        assert_string_equal(after, journal);       /* and so does its journal */
        free(after);
        free(journal);

        assert_int_equal(tl_daemon_stop(&d1, SIGTERM), 0);
        assert_originals(e);
        tl_daemon_free(&d1);
        tl_daemon_free(&d2);
}

/* A foreground daemon whose stderr reader went away once died of SIGPIPE
 * (exit 141) at its next log line, without restoring anything. */
static void test_closed_stderr_pipe_is_no_reason_to_die_without_restoring(void **state)
{
        /* bash: stderr into a pipe whose reader has exited, then the daemon. */
        static const char *const launcher[] = {
                "/bin/bash", "-c", "exec 2> >(exit 0); sleep 0.3; exec \"$@\"", "vmtuned-stderr-closed", NULL
        };
        struct tl_env *e = *state;
        struct tl_daemon d;

        tl_env_set_argv(e, launcher, true);
        start_ok(e, &d);
        assert_applied(e);
        assert_int_equal(kill(d.pid, SIGHUP), 0); /* a reload logs several lines */
        usleep(300 * 1000);
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_originals(e);
        tl_daemon_free(&d);
}

static void test_value_changed_behind_our_back_is_not_clobbered_on_stop(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        start_ok(e, &d);
        tl_write(e->root, "proc/sys/vm/swappiness", "33\n");
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_value(e, "proc/sys/vm/swappiness", "33");
        assert_value(e, "proc/sys/vm/dirty_ratio", "20"); /* the others are restored */
        char *err = tl_daemon_stderr(&d);
        assert_non_null(strstr(err, "vm.swappiness"));
        assert_non_null(strstr(err, "someone else"));
        /* Issue 17: the last line once said "original settings restored"
         * right after "1 setting(s) were not restored". */
        assert_non_null(strstr(err, "vmtuned stopped; original settings restored but 1 left as someone else set "
                                    "them or gone"));
        free(err);
        tl_daemon_free(&d);
}

static void test_missing_knob_is_skipped_and_the_rest_applies(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        tl_write(e->profiles, "test.conf",
                 "[main]\ninclude = other\n[sysctl]\nvm.no_such_knob = 1\nvm.dirty_ratio = 40\n");
        start_ok(e, &d);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_value(e, "proc/sys/vm/dirty_ratio", "40");
        assert_false(tl_exists(e->root, "proc/sys/vm/no_such_knob"));
        char *err = tl_daemon_stderr(&d);
        assert_non_null(strstr(err, "vm.no_such_knob"));
        free(err);
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_originals(e);
        tl_daemon_free(&d);
}

static void test_dry_run_writes_nothing(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;
        char *argv[20];
        size_t n = 0;

        while (e->argv[n]) {
                argv[n] = e->argv[n];
                n++;
        }
        argv[n++] = (char *) "--dry-run";
        argv[n] = NULL;
        assert_int_equal(tl_daemon_start(&d, argv, NULL), 0);
        assert_untouched(e);
        char *err = tl_daemon_stderr(&d);
        assert_non_null(strstr(err, "dry run"));
        free(err);
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_untouched(e);
        tl_daemon_free(&d);
}

static void test_sighup_switches_profile_and_restores_keys_it_drops(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        start_ok(e, &d);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = other\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nkernel_numa_balancing = keep\n");
        kill(d.pid, SIGHUP);
        assert_true(tl_daemon_wait_notify(&d, "RELOADING=1", 30000));
        /* READY=1 again after the reload: wait for the second one. */
        for (int i = 0; i < 300 && !strstr(strstr(d.notifications, "RELOADING=1"), "READY=1"); i++)
                tl_daemon_wait_notify(&d, "NEVER", 100);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_value(e, "proc/sys/vm/dirty_ratio", "20");          /* only the old profile set it */
        assert_value(e, "proc/sys/kernel/numa_balancing", "1");     /* "keep" now */
        assert_value(e, "sys/block/vda/queue/scheduler", "mq-deadline");
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_originals(e);
        tl_daemon_free(&d);
}

/* SIGHUP, then wait for READY=1 after RELOADING=1. */
static void reload_and_wait(struct tl_daemon *d)
{
        assert_int_equal(kill(d->pid, SIGHUP), 0);
        assert_true(tl_daemon_wait_notify(d, "RELOADING=1", 30000));
        for (int i = 0; i < 300 && !strstr(strstr(d->notifications, "RELOADING=1"), "READY=1"); i++)
                tl_daemon_wait_notify(d, "NEVER", 100);
        assert_non_null(strstr(strstr(d->notifications, "RELOADING=1"), "READY=1"));
}

/* An mtime long past on every fixture file and the journal: any write
 * from now on shows, however coarse the file system's clock. */
static const struct timespec long_ago[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };

static void backdate(const char *dir, const char *rel)
{
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);

        assert_int_equal(utimensat(AT_FDCWD, path, long_ago, 0), 0);
}

static void backdate_all(const struct tl_env *e)
{
        for (size_t i = 0; i < ARRAY_SIZE(kernel_files); i++)
                backdate(e->root, kernel_files[i].rel);
        backdate(e->run, "rollback");
}

/* Names the files written since backdate_all; "" when none. */
static char *written_since_backdate(const struct tl_env *e)
{
        char *list = xstrdup("");

        for (size_t i = 0; i <= ARRAY_SIZE(kernel_files); i++) {
                const char *dir = i < ARRAY_SIZE(kernel_files) ? e->root : e->run;
                const char *rel = i < ARRAY_SIZE(kernel_files) ? kernel_files[i].rel : "rollback";
                _cleanup_free_ char *path = xasprintf("%s/%s", dir, rel);
                struct stat st;

                assert_int_equal(stat(path, &st), 0);
                if (st.st_mtim.tv_sec != long_ago[1].tv_sec) {
                        char *more = xasprintf("%s %s", list, rel);

                        free(list);
                        list = more;
                }
        }
        return list;
}

/* The log lines after the last "configuration reloaded" that changed a
 * value ("key: a -> b (...)", restores included). */
static void assert_no_value_changed_since_reload(const struct tl_daemon *d)
{
        _cleanup_free_ char *err = tl_daemon_stderr(d);
        const char *since = NULL, *arrow;

        for (const char *p = strstr(err, "configuration reloaded"); p; p = strstr(p + 1, "configuration reloaded"))
                since = p;
        assert_non_null(since);
        arrow = strstr(since, " -> ");
        if (arrow)
                fail_msg("a value changed at the reload: ...%.100s", arrow > since + 60 ? arrow - 60 : since);
}

/* Issue 12: a reload with an unchanged configuration restored every value
 * and applied it again: every sysctl flipped, every disk's scheduler was
 * switched twice. Now it writes nothing at all, the journal included. */
static void test_unchanged_reload_writes_nothing(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon *d = &e->d; /* the teardown stops it if an assertion fails */
        _cleanup_free_ char *written = NULL;

        start_ok(e, d);
        assert_applied(e);
        backdate_all(e);
        reload_and_wait(d);
        written = written_since_backdate(e);
        if (written[0])
                fail_msg("an unchanged reload wrote:%s", written);
        assert_no_value_changed_since_reload(d);
        assert_applied(e);
        assert_int_equal(tl_daemon_stop(d, SIGTERM), 0);
        assert_originals(e);
        assert_false(tl_exists(e->run, "rollback"));
}

/* A switch writes what differs once, restores what the new plan drops,
 * and leaves what both set alone; the first original survives for stop. */
static void test_switch_writes_only_what_changes_and_keeps_first_originals(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon *d = &e->d; /* the teardown stops it if an assertion fails */
        _cleanup_free_ char *written = NULL;

        start_ok(e, d);
        tl_write(e->profiles, "changed.conf", changed_profile);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = changed\nlog_level = debug\n"
                                         "libvirt_uri = test:///default\n[balancer]\nkernel_numa_balancing = keep\n");
        backdate_all(e);
        reload_and_wait(d);
        assert_value(e, "proc/sys/vm/swappiness", "20");
        assert_value(e, "proc/sys/kernel/numa_balancing", "1");  /* "keep" now: restored */
        written = written_since_backdate(e);
        assert_string_equal(written, " proc/sys/vm/swappiness proc/sys/kernel/numa_balancing rollback");
        assert_int_equal(tl_daemon_stop(d, SIGTERM), 0);
        assert_originals(e);
}

/* Issue 15: under systemd's soft limit of 1024 files the sampler kept
 * files open for only about 100 VMs. The daemon raises it to the hard limit. */
static void test_daemon_raises_its_soft_file_limit_to_the_hard_one(void **state)
{
        struct tl_env *e = *state;
        struct rlimit saved, low;
        _cleanup_free_ char *limits = NULL;
        const char *line;
        char proc[64];

        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        if (saved.rlim_max <= 256 || saved.rlim_max == RLIM_INFINITY) {
                skip();
                return;
        }
        low = (struct rlimit){ .rlim_cur = 256, .rlim_max = saved.rlim_max };
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        start_ok(e, &e->d);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        snprintf(proc, sizeof(proc), "/proc/%d", (int) e->d.pid);
        limits = tl_read(proc, "limits");
        assert_non_null(limits);
        /* "Max open files            20000                20000                files" */
        line = strstr(limits, "Max open files");
        assert_non_null(line);
        assert_int_equal(strtoull(line + strlen("Max open files"), NULL, 10), saved.rlim_max);
        assert_int_equal(tl_daemon_stop(&e->d, SIGTERM), 0);
}

static void test_sighup_with_bad_config_keeps_running_configuration(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        start_ok(e, &d);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = test\nno_such_option = 1\n");
        kill(d.pid, SIGHUP);
        assert_true(tl_daemon_wait_notify(&d, "RELOADING=1", 30000));
        for (int i = 0; i < 300; i++) {
                char *err = tl_daemon_stderr(&d);
                bool logged = strstr(err, "keeping the running configuration") != NULL;
                free(err);
                if (logged)
                        break;
                tl_daemon_wait_notify(&d, "NEVER", 100);
        }
        char *err = tl_daemon_stderr(&d);
        assert_non_null(strstr(err, "keeping the running configuration"));
        assert_non_null(strstr(err, "vmtuned.conf:3"));
        assert_non_null(strstr(err, "no_such_option"));
        free(err);
        assert_applied(e);
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_originals(e);
        tl_daemon_free(&d);
}

/* Start with a broken file: exit 2, the message names where and what, and
 * not one byte of the fixture kernel (or a rollback journal) is written. */
static void expect_config_error(struct tl_env *e, const char *file, const char *content,
                                const char *where, const char *what)
{
        char *out = NULL;
        int code;

        tl_write(e->dir, file, content);
        code = tl_run(e->argv, &out);
        if (code != 2 || !strstr(out, where) || !strstr(out, what))
                fail_msg("%s: exit %d, want 2 and '%s' and '%s' in:\n%s", file, code, where, what, out);
        free(out);
        assert_untouched(e);
        assert_false(tl_exists(e->run, "rollback"));
}

static void test_bad_configuration_names_file_line_key_and_changes_nothing(void **state)
{
        struct tl_env *e = *state;

        expect_config_error(e, "vmtuned.conf", "[vmtuned]\nprofile = test\n[bogus]\nx = 1\n",
                            "vmtuned.conf:3", "bogus");
        expect_config_error(e, "vmtuned.conf", "[vmtuned]\nprofile = test\nprofle = test\n",
                            "vmtuned.conf:3", "profle");
        expect_config_error(e, "vmtuned.conf", "[vmtuned]\nprofile = test\n[balancer]\ninterval = 0\n",
                            "vmtuned.conf:4", "interval");
        expect_config_error(e, "vmtuned.conf", "[vmtuned]\nprofile = test\n[vm]\ntransparent_hugepages = sometimes\n",
                            "vmtuned.conf:4", "transparent_hugepages");
        tl_write(e->dir, "vmtuned.conf", good_config);
        expect_config_error(e, "profiles/test.conf", "[sysctl]\nvm/swappiness = 1\n",
                            "test.conf:2", "vm/swappiness");
        expect_config_error(e, "profiles/test.conf", "[sysctl]\nvm..swappiness = 1\n",
                            "test.conf:2", "vm..swappiness");
        expect_config_error(e, "profiles/test.conf", "[disk]\ndevices = ../../etc\nscheduler = none\n",
                            "test.conf:2", "devices");
        expect_config_error(e, "profiles/test.conf", "[main]\ninclude = other\n[ksm]\nrun = 7\n",
                            "test.conf:4", "run");
        expect_config_error(e, "profiles/test.conf", "[main]\ninclude = nosuch\n",
                            "test.conf:2", "nosuch");
        tl_write(e->profiles, "other.conf", "[main]\ninclude = test\n");
        expect_config_error(e, "profiles/test.conf", "[main]\ninclude = other\n", "other.conf:2", "cycle");
        tl_write(e->profiles, "other.conf", other_profile);
        tl_write(e->profiles, "test.conf", test_profile);
        expect_config_error(e, "vmtuned.conf", "[vmtuned]\nprofile = nosuch\n", "nosuch", "profile");
}

static void test_check_config_prints_resolved_settings_and_changes_nothing(void **state)
{
        struct tl_env *e = *state;
        char *argv[20], *out = NULL;
        size_t n = 0;

        while (e->argv[n]) {
                argv[n] = e->argv[n];
                n++;
        }
        argv[n++] = (char *) "--check-config";
        argv[n] = NULL;
        assert_int_equal(tl_run(argv, &out), 0);
        assert_non_null(strstr(out, "vm.swappiness = 10"));
        assert_non_null(strstr(out, "disk vda scheduler = bfq"));
        free(out);
        assert_untouched(e);
}

static void test_vmtunectl_domains_shows_libvirt_domains_and_socket_is_root_only(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;
        char sock[600], *out = NULL;
        char *argv[] = { (char *) tl_vmtunectl_bin(), (char *) "--runtime-dir", e->run, (char *) "domains", NULL };
        char *json_argv[] = { (char *) tl_vmtunectl_bin(), (char *) "--runtime-dir", e->run, (char *) "--json",
                              (char *) "domains", NULL };
        struct stat st;

        start_ok(e, &d);
        snprintf(sock, sizeof(sock), "%s/vmtuned.sock", e->run);
        assert_int_equal(stat(sock, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        /* test:///default has one running domain, "test", with no process. */
        assert_int_equal(tl_run(argv, &out), 0);
        assert_non_null(strstr(out, "test"));
        assert_non_null(strstr(out, "no process"));
        free(out);
        assert_int_equal(tl_run(json_argv, &out), 0);
        assert_non_null(strstr(out, "{\"name\":\"test\""));
        assert_non_null(strstr(out, "\"movable\":false"));
        free(out);
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_false(tl_exists(e->run, "vmtuned.sock"));
        /* No daemon: vmtunectl says so with exit code 3. */
        assert_int_equal(tl_run(argv, &out), 3);
        assert_non_null(strstr(out, "not running"));
        free(out);
        tl_daemon_free(&d);
}

/* --- issue 12, input policy ------------------------------------------------ */

static void assert_output_has(const char *out, const char *want)
{
        if (!strstr(out, want))
                fail_msg("expected \"%s\" in:\n%s", want, out);
}

/* vmtuned ARGV... plus extra (NULL-terminated): its exit code, output in *out. */
static int run_with(const struct tl_env *e, char **out, ...)
{
        char *argv[40];
        size_t n = 0;
        va_list ap;

        for (; e->argv[n]; n++)
                argv[n] = e->argv[n];
        va_start(ap, out);
        for (char *a; (a = va_arg(ap, char *)) && n + 1 < ARRAY_SIZE(argv);)
                argv[n++] = a;
        va_end(ap);
        argv[n] = NULL;
        return tl_run(argv, out);
}

/* A misspelt sysctl is "not on this kernel" with a did-you-mean: a warning
 * for --check-config, a failure (exit 1) for --check-config --strict, which
 * CI of a configuration repository runs. Nothing is written either way. */
static void test_check_config_strict_fails_on_a_key_not_on_this_kernel(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        tl_write(e->profiles, "typo.conf", "[main]\nsummary = a typo\n[sysctl]\nvm.swapiness = 10\n"
                                           "vm.dirty_ratio = 40\nvm.no_such_knob = 1\n");
        assert_int_equal(run_with(e, &out, "--check-config", "--profile", "typo", NULL), 0);
        assert_output_has(out, "typo.conf:4: [sysctl] vm.swapiness: not on this kernel; did you mean vm.swappiness?");
        assert_output_has(out, "typo.conf:6: [sysctl] vm.no_such_knob: not on this kernel (no proc/sys/vm/no_such_knob");
        assert_output_has(out, "2 keys not on this kernel");
        free(out);

        assert_int_equal(run_with(e, &out, "--check-config", "--strict", "--profile", "typo", NULL), 1);
        assert_output_has(out, "typo.conf:4: [sysctl] vm.swapiness: not on this kernel; did you mean vm.swappiness?");
        assert_output_has(out, "2 keys not on this kernel (--strict)");
        free(out);

        /* Every key on this kernel: --strict passes. */
        assert_int_equal(run_with(e, &out, "--check-config", "--strict", NULL), 0);
        if (strstr(out, "not on this kernel"))
                fail_msg("a key of the test profile reported missing:\n%s", out);
        free(out);

        /* --strict alone is a usage error. */
        assert_int_equal(run_with(e, &out, "--strict", NULL), 2);
        assert_output_has(out, "--strict goes with --check-config");
        free(out);
        assert_untouched(e);
        assert_false(tl_exists(e->run, "rollback"));
}

/* Bytes that are not UTF-8 (0xff 0xfe), a control character and a key
 * given twice: refused with file, line and key, by the daemon and by
 * --check-config alike, and nothing changes. */
static void test_invalid_utf8_and_a_key_given_twice_are_refused_with_file_line_and_key(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        /* --check-config first: it exits even where the daemon would start. */
        tl_write(e->profiles, "test.conf", "[main]\nsummary = x\n[sysctl]\nvm.swappiness = 1\xff\xfe\n");
        assert_int_equal(run_with(e, &out, "--check-config", NULL), 2);
        assert_output_has(out, "test.conf:4: [sysctl] vm.swappiness: invalid UTF-8 byte 0xff");
        free(out);
        expect_config_error(e, "profiles/test.conf", "[main]\nsummary = x\n[sysctl]\nvm.swappiness = 1\xff\xfe\n",
                            "test.conf:4: [sysctl] vm.swappiness: invalid UTF-8 byte 0xff at byte 2", "1\\xff\\xfe");
        expect_config_error(e, "profiles/test.conf", "[sysctl]\nvm.swappiness = 1\x07\n",
                            "test.conf:2: [sysctl] vm.swappiness", "control character U+0007");
        expect_config_error(e, "profiles/test.conf", "[sysctl]\nvm.swappiness = 10\nvm.swappiness = 20\n",
                            "test.conf:3", "key vm.swappiness given twice in [sysctl]: lines 2 and 3");
        tl_write(e->profiles, "test.conf", test_profile);
        expect_config_error(e, "vmtuned.conf", "[vmtuned]\nprofile = test\n[sysctl]\nvm.sw\xfeppiness = 1\n",
                            "vmtuned.conf:4: [sysctl] vm.sw\\xfeppiness", "invalid UTF-8 byte 0xfe");
}

/* --- issue 16: [cpu] and [hugepages] -------------------------------------- */

#define CPUD "sys/devices/system/cpu/"
#define HP2M "sys/kernel/mm/hugepages/hugepages-2048kB/"
#define NODED "sys/devices/system/node/"

/* An intel_pstate host of two CPUs with idle states, two memory nodes. A
 * fixture's free_hugepages cannot follow nr_hugepages as the kernel's does:
 * it says more pages are free than any pool holds, so none is in use. */
static const struct tl_file cpu_hp_files[] = {
        { CPUD "cpufreq/policy0/scaling_available_governors", "performance powersave\n" },
        { CPUD "cpufreq/policy0/scaling_governor", "powersave\n" },
        { CPUD "cpufreq/policy1/scaling_available_governors", "performance powersave\n" },
        { CPUD "cpufreq/policy1/scaling_governor", "powersave\n" },
        { CPUD "cpu0/power/energy_perf_bias", "6\n" },
        { CPUD "cpu1/power/energy_perf_bias", "6\n" },
        { CPUD "intel_pstate/min_perf_pct", "30\n" },
        { CPUD "cpu0/cpuidle/state0/latency", "0\n" },
        { CPUD "cpu0/cpuidle/state0/disable", "0\n" },
        { CPUD "cpu0/cpuidle/state1/latency", "2\n" },
        { CPUD "cpu0/cpuidle/state1/disable", "0\n" },
        { CPUD "cpu0/cpuidle/state2/latency", "133\n" },
        { CPUD "cpu0/cpuidle/state2/disable", "0\n" },
        { CPUD "cpu1/cpuidle/state0/latency", "0\n" },
        { CPUD "cpu1/cpuidle/state0/disable", "0\n" },
        { CPUD "cpu1/cpuidle/state2/latency", "133\n" },
        { CPUD "cpu1/cpuidle/state2/disable", "0\n" },
        { HP2M "nr_hugepages", "0\n" },
        { HP2M "free_hugepages", "100000\n" },
        { HP2M "nr_overcommit_hugepages", "0\n" },
        { NODED "node0/meminfo", "Node 0 MemTotal:  1048576 kB\nNode 0 MemFree:  524288 kB\n" },
        { NODED "node0/hugepages/hugepages-2048kB/nr_hugepages", "0\n" },
        { NODED "node0/hugepages/hugepages-2048kB/free_hugepages", "100000\n" },
        { NODED "node1/meminfo", "Node 1 MemTotal:  2097152 kB\nNode 1 MemFree:  524288 kB\n" },
        { NODED "node1/hugepages/hugepages-2048kB/nr_hugepages", "2\n" },
        { NODED "node1/hugepages/hugepages-2048kB/free_hugepages", "100000\n" },
};

static const struct tl_file cpu_hp_applied[] = {
        { CPUD "cpufreq/policy0/scaling_governor", "performance" },
        { CPUD "cpufreq/policy1/scaling_governor", "performance" },
        { CPUD "cpu1/power/energy_perf_bias", "0" },
        { CPUD "intel_pstate/min_perf_pct", "100" },
        { CPUD "cpu0/cpuidle/state1/disable", "0" },
        { CPUD "cpu0/cpuidle/state2/disable", "1" },
        { CPUD "cpu1/cpuidle/state2/disable", "1" },
        { NODED "node0/hugepages/hugepages-2048kB/nr_hugepages", "128" },
        { NODED "node1/hugepages/hugepages-2048kB/nr_hugepages", "256" },
        { HP2M "nr_overcommit_hugepages", "8" },
};

/* tuned's keys, a governor list over a continuation line. */
static const char cpu_hp_profile[] =
        "[main]\n"
        "include = test\n"
        "[cpu]\n"
        "governor = schedutil,\n"
        "    performance\n"
        "energy_perf_bias = performance\n"
        "min_perf_pct = 100\n"
        "force_latency = cstate.id_no_zero:1|3\n"
        "[hugepages]\n"
        "per_node = 25%\n"
        "overcommit = 16M\n";

static int setup_cpu_hp(void **state)
{
        struct tl_env *e;

        setup(state);
        e = *state;
        tl_write_files(e->root, cpu_hp_files, ARRAY_SIZE(cpu_hp_files));
        tl_write(e->profiles, "cpuhp.conf", cpu_hp_profile);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = cpuhp\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nkernel_numa_balancing = keep\n");
        return 0;
}

static void assert_cpu_hp_applied(const struct tl_env *e)
{
        for (size_t i = 0; i < ARRAY_SIZE(cpu_hp_applied); i++)
                assert_value(e, cpu_hp_applied[i].rel, cpu_hp_applied[i].content);
}

static void assert_cpu_hp_originals(const struct tl_env *e)
{
        tl_assert_originals(e->root, cpu_hp_files, ARRAY_SIZE(cpu_hp_files));
}

static void test_cpu_and_hugepages_come_back_after_stop_and_after_kill9(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d1, d2, d3;

        start_ok(e, &d1);
        assert_cpu_hp_applied(e);
        assert_int_equal(tl_daemon_stop(&d1, SIGTERM), 0);
        assert_cpu_hp_originals(e);

        start_ok(e, &d2);
        assert_int_equal(tl_daemon_stop(&d2, SIGKILL), 128 + SIGKILL);
        assert_cpu_hp_applied(e);
        start_ok(e, &d3);
        assert_cpu_hp_applied(e);
        assert_int_equal(tl_daemon_stop(&d3, SIGTERM), 0);
        assert_cpu_hp_originals(e);
        assert_false(tl_exists(e->run, "rollback"));
        tl_daemon_free(&d1);
        tl_daemon_free(&d2);
        tl_daemon_free(&d3);
}

static void test_profile_switch_gives_back_cpu_and_hugepages(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d;

        start_ok(e, &d);
        assert_cpu_hp_applied(e);
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = other\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nkernel_numa_balancing = keep\n");
        reload_and_wait(&d);
        assert_value(e, "proc/sys/vm/swappiness", "30");
        assert_cpu_hp_originals(e);
        assert_int_equal(tl_daemon_stop(&d, SIGTERM), 0);
        assert_cpu_hp_originals(e);
        assert_originals(e);
        tl_daemon_free(&d);
}

/* Pages a VM holds stay reserved at stop; the journal keeps the entry and
 * the log says why; once they are free, the next start and stop restore. */
static void test_hugepages_in_use_are_kept_at_stop_and_restored_later(void **state)
{
        struct tl_env *e = *state;
        struct tl_daemon d1, d2;
        char *err;

        start_ok(e, &d1);
        tl_write(e->root, NODED "node1/hugepages/hugepages-2048kB/free_hugepages", "156\n"); /* 100 in use */
        assert_int_equal(tl_daemon_stop(&d1, SIGTERM), 0);
        assert_value(e, NODED "node1/hugepages/hugepages-2048kB/nr_hugepages", "256");
        assert_value(e, NODED "node0/hugepages/hugepages-2048kB/nr_hugepages", "0");
        err = tl_daemon_stderr(&d1);
        assert_output_has(err, "100 huge pages are in use");
        free(err);
        assert_true(tl_exists(e->run, "rollback"));

        tl_write(e->root, NODED "node1/hugepages/hugepages-2048kB/free_hugepages", "100000\n");
        start_ok(e, &d2);
        assert_int_equal(tl_daemon_stop(&d2, SIGTERM), 0);
        assert_cpu_hp_originals(e);
        tl_daemon_free(&d1);
        tl_daemon_free(&d2);
}

/* vmtunectl [--json] status: exit 0, its output (malloc'd). */
static char *status_of(const struct tl_env *e, bool json)
{
        char *out = NULL;
        int code = json ? tl_vmtunectl(e->run, &out, "--json", "status", NULL)
                        : tl_vmtunectl(e->run, &out, "status", NULL);

        if (code != 0)
                fail_msg("vmtunectl status: %d\n%s", code, out);
        return out;
}

/* While the pages are in use, status says for each waiting pool why; the
 * running daemon gives them back once they are free, without a stop. */
static void test_status_says_why_hugepages_wait_and_the_daemon_restores_them_once_free(void **state)
{
        struct tl_env *e = *state;
        const char *nr1 = NODED "node1/hugepages/hugepages-2048kB/nr_hugepages";
        struct tl_daemon *d = &e->d; /* the teardown stops it if an assertion fails */
        char *out = NULL, *now = NULL;
        int i;

        start_ok(e, d);
        out = status_of(e, false);
        assert_null(strstr(out, "restore:"));
        free(out);
        out = status_of(e, true);
        assert_output_has(out, "\"waiting\":[]");
        free(out);

        tl_write(e->root, NODED "node1/hugepages/hugepages-2048kB/free_hugepages", "156\n"); /* 100 in use */
        assert_int_equal(tl_vmtunectl(e->run, &out, "off", NULL), 0);
        free(out);
        assert_value(e, nr1, "256");
        assert_value(e, NODED "node0/hugepages/hugepages-2048kB/nr_hugepages", "0");
        out = status_of(e, false);
        assert_output_has(out, "restore:  hugepages node1 2048kB nr_hugepages: waiting, 100 of 256 pages in use by "
                               "running VMs (original 2)\n");
        assert_null(strstr(out, "node0 2048kB nr_hugepages"));
        free(out);
        out = status_of(e, true);
        assert_output_has(out, "\"waiting\":[{\"key\":\"hugepages node1 2048kB\",\"path\":\"" NODED
                               "node1/hugepages/hugepages-2048kB/nr_hugepages\",\"original\":\"2\",\"reason\":"
                               "\"waiting, 100 of 256 pages in use by running VMs (original 2)\"}]");
        free(out);

        /* the VM stopped: back while vmtuned runs, not at its next start */
        tl_write(e->root, NODED "node1/hugepages/hugepages-2048kB/free_hugepages", "100000\n");
        for (i = 0; i < 200; i++) {
                free(now);
                now = tl_read_value(e->root, nr1);
                if (streq(now, "2"))
                        break;
                usleep(100000);
        }
        if (!streq(now, "2"))
                fail_msg("node1's pool still %s 20 s after its pages were freed", now);
        fprintf(stderr, "  (restored %.1f s after the pages were freed)\n", i / 10.0);
        free(now);
        assert_false(tl_exists(e->run, "rollback"));
        out = status_of(e, false);
        assert_null(strstr(out, "restore:"));
        free(out);
        assert_int_equal(kill(d->pid, 0), 0);
        assert_int_equal(tl_daemon_stop(d, SIGTERM), 0);
        assert_cpu_hp_originals(e);
}

static void test_check_config_shows_the_joined_value_and_the_cpu_plan(void **state)
{
        struct tl_env *e = *state;
        char *out = NULL;

        assert_int_equal(run_with(e, &out, "--check-config", NULL), 0);
        assert_output_has(out, "[cpu] governor = schedutil, performance");
        assert_output_has(out, "cpu policy1 governor = performance");
        assert_output_has(out, "hugepages node1 2048kB = 256");
        free(out);
        assert_cpu_hp_originals(e);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_apply_sets_every_file_and_sigterm_restores_every_original, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_sigint_restores_like_sigterm, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_kill9_then_restart_restores_values_from_before_first_start, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_second_instance_on_the_same_runtime_directory_exits_and_touches_nothing,
                                                setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_closed_stderr_pipe_is_no_reason_to_die_without_restoring, setup,
                                                tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_kill9_then_restart_leaves_merge_across_nodes_while_pages_are_merged,
                                                setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_value_changed_behind_our_back_is_not_clobbered_on_stop, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_missing_knob_is_skipped_and_the_rest_applies, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_writes_nothing, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_sighup_switches_profile_and_restores_keys_it_drops, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_sighup_with_bad_config_keeps_running_configuration, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_unchanged_reload_writes_nothing, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_daemon_raises_its_soft_file_limit_to_the_hard_one, setup,
                                                tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_switch_writes_only_what_changes_and_keeps_first_originals, setup,
                                                tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_bad_configuration_names_file_line_key_and_changes_nothing, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_check_config_prints_resolved_settings_and_changes_nothing, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_vmtunectl_domains_shows_libvirt_domains_and_socket_is_root_only, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_check_config_strict_fails_on_a_key_not_on_this_kernel, setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_invalid_utf8_and_a_key_given_twice_are_refused_with_file_line_and_key,
                                                setup, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_cpu_and_hugepages_come_back_after_stop_and_after_kill9, setup_cpu_hp,
                                                tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_profile_switch_gives_back_cpu_and_hugepages, setup_cpu_hp,
                                                tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_hugepages_in_use_are_kept_at_stop_and_restored_later,
                                                setup_cpu_hp, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_status_says_why_hugepages_wait_and_the_daemon_restores_them_once_free,
                                                setup_cpu_hp, tl_env_teardown),
                cmocka_unit_test_setup_teardown(test_check_config_shows_the_joined_value_and_the_cpu_plan, setup_cpu_hp,
                                                tl_env_teardown),
        };
        return cmocka_run_group_tests_name("daemon on a fixture root", tests, NULL, NULL);
}
