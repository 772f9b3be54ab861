/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rollback journal believes only what vmtuned itself could have
 * written (issue 12, item 3): records naming kernel tunables, in a regular
 * file and a runtime directory only its user can write; its temporary file
 * is never written through; and each refusal says why and touches nothing.
 * rollback_open() on a temporary runtime directory, as the daemon calls it
 * at start-up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "base/kfile.h"
#include "base/log.h"
#include "tuning/rollback.h"
#include "testlib.h"

/* An unprivileged owner for files that must not be ours (tests as root). */
#define OTHER_UID 65534

struct fixture {
        char *dir;      /* dir/run: the runtime directory; dir/etc/victim: a file that is no tunable */
        char *run;
        char *journal;  /* dir/run/rollback */
        char *stderr_path;
        int saved_stderr;
};

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-rollback-safety");
        f->run = xasprintf("%s/run", f->dir);
        f->journal = xasprintf("%s/rollback", f->run);
        f->stderr_path = xasprintf("%s/stderr", f->dir);
        f->saved_stderr = -1;
        tl_write(f->dir, "etc/victim", "precious\n");
        if (mkdir(f->run, 0755) < 0 || chmod(f->run, 0755) < 0)
                fail_msg("mkdir %s: %s", f->run, strerror(errno));
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        tl_rm_rf(f->dir);
        free(f->dir);
        free(f->run);
        free(f->journal);
        free(f->stderr_path);
        free(f);
        return 0;
}

/* Send stderr, where the log goes, to a file until stop_capture(). */
static void start_capture(struct fixture *f)
{
        int fd = open(f->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        fflush(stderr);
        f->saved_stderr = dup(STDERR_FILENO);
        assert_true(fd >= 0 && f->saved_stderr >= 0);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        close(fd);
}

/* What was logged since start_capture() (malloc'd); also echoed. */
static char *stop_capture(struct fixture *f)
{
        char *out;

        fflush(stderr);
        dup2(f->saved_stderr, STDERR_FILENO);
        close(f->saved_stderr);
        f->saved_stderr = -1;
        out = tl_read(f->dir, "stderr");
        assert_non_null(out);
        fputs(out, stderr);
        return out;
}

static void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("\"%s\" not in: %s", needle, haystack);
}

/* Write a journal of these records, as vmtuned would have (0600). */
static void write_journal(const struct fixture *f, const struct rollback_entry *entries, size_t n)
{
        _cleanup_free_ char *text = rollback_format(entries, n);

        tl_write(f->run, "rollback", text);
        assert_int_equal(chmod(f->journal, 0600), 0);
}

/* rollback_open() must refuse with want, log every one of the words, and
 * leave the journal (if any) as it was. */
static void assert_open_refused(struct fixture *f, int want, const char *const *words)
{
        _cleanup_free_ char *before = NULL, *after = NULL, *log = NULL;
        struct rollback *rb = NULL;
        struct stat st;
        bool stale = false;
        int r;

        /* Not a FIFO: reading that would hang the test itself. */
        if (lstat(f->journal, &st) == 0 && S_ISREG(st.st_mode))
                before = tl_read(f->run, "rollback");

        start_capture(f);
        r = rollback_open(f->run, &rb, &stale);
        log = stop_capture(f);
        if (r == 0)
                rollback_free(rb);
        assert_int_equal(r, want);
        assert_null(rb);
        for (; *words; words++)
                assert_contains(log, *words);
        if (before) {
                after = tl_read(f->run, "rollback");
                assert_non_null(after);
                assert_string_equal(after, before); /* never dropped */
        }
}

static void test_a_journal_naming_a_file_that_is_no_tunable_is_refused_and_kept(void **state)
{
        struct fixture *f = *state;
        const struct rollback_entry hostile[] = {
                { "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10", NULL, false },
                { "sysctl vm.victim", "etc/victim", "pwned", "precious", NULL, false },
        };
        const char *const words[] = { f->journal, ":3:", "etc/victim", "not a kernel tunable vmtuned manages",
                                      NULL };
        _cleanup_free_ char *victim = NULL;

        write_journal(f, hostile, ARRAY_SIZE(hostile));
        assert_open_refused(f, -EBADMSG, words);
        victim = tl_read(f->dir, "etc/victim");
        assert_string_equal(victim, "precious\n");
}

static void test_record_refuses_a_path_that_is_no_tunable(void **state)
{
        struct fixture *f = *state;
        struct rollback *rb = NULL;
        bool stale = true;

        assert_int_equal(rollback_open(f->run, &rb, &stale), 0);
        assert_false(stale);
        assert_int_equal(rollback_record(rb, "sysctl vm.victim", "etc/victim", "precious", "pwned"), -EPERM);
        assert_int_equal(rollback_record(rb, "cgroup", "sys/fs/cgroup/machine.slice/cpuset.mems", "0-1", "1"), 0);
        assert_int_equal(rb->n_entries, 1);
        assert_null(rollback_find(rb, "etc/victim"));
        rollback_free(rb);
}

/* A hard link planted at the temporary name, to a file the attacker cannot
 * write but root can: the journal must not be written through it. */
static void test_a_planted_hard_link_or_symlink_at_the_temporary_name_is_not_written_through(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *victim = xasprintf("%s/etc/victim", f->dir);
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", f->journal);
        _cleanup_free_ char *content = NULL;
        struct rollback *rb = NULL;
        bool stale = true;

        assert_int_equal(rollback_open(f->run, &rb, &stale), 0);
        assert_int_equal(link(victim, tmp), 0);
        assert_int_equal(rollback_record(rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        content = tl_read(f->dir, "etc/victim");
        assert_string_equal(content, "precious\n");
        free(content);

        assert_int_equal(symlink(victim, tmp), 0);
        assert_int_equal(rollback_record(rb, "sysctl vm.dirty_ratio", "proc/sys/vm/dirty_ratio", "20", "5"), 0);
        content = tl_read(f->dir, "etc/victim");
        assert_string_equal(content, "precious\n");
        assert_false(tl_exists(f->run, "rollback.tmp"));
        rollback_free(rb);

        /* And the journal is the one vmtuned wrote. */
        rb = NULL;
        assert_int_equal(rollback_open(f->run, &rb, &stale), 0);
        assert_true(stale);
        assert_int_equal(rb->n_entries, 2);
        rollback_free(rb);
}

/* A FIFO in place of the journal: opening it for reading waits for a
 * writer, before the daemon has set up its signals. Run in a child with a
 * deadline, so that a hang fails the test instead of stopping the suite. */
static void test_a_fifo_in_place_of_the_journal_is_refused_without_hanging(void **state)
{
        struct fixture *f = *state;
        struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
        int status = -1;
        pid_t pid, done = 0;

        assert_int_equal(mkfifo(f->journal, 0600), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct rollback *rb = NULL;
                bool stale;

                _exit(rollback_open(f->run, &rb, &stale) == -EBADMSG ? 0 : 1);
        }
        for (int i = 0; i < 500 && done == 0; i++) { /* 5 s */
                done = waitpid(pid, &status, WNOHANG);
                if (done == 0)
                        nanosleep(&tick, NULL);
        }
        if (done == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                fail_msg("rollback_open() still hangs on a FIFO journal after 5 s");
        }
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        {
                const char *const words[] = { f->journal, "not a regular file", NULL };

                assert_open_refused(f, -EBADMSG, words);
        }
}

static void test_a_journal_others_could_write_is_refused_and_kept(void **state)
{
        struct fixture *f = *state;
        const struct rollback_entry one[] = {
                { "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10", NULL, false },
        };
        const char *const writable[] = { f->journal, "writable by group or others", "0620", NULL };
        const char *const owner[] = { f->journal, "not owned by the user vmtuned runs as", NULL };

        write_journal(f, one, ARRAY_SIZE(one));
        assert_int_equal(chmod(f->journal, 0620), 0);
        assert_open_refused(f, -EPERM, writable);

        if (geteuid() != 0) {
                fprintf(stderr, "not root: cannot give the journal another owner, that part skipped\n");
                return;
        }
        assert_int_equal(chmod(f->journal, 0600), 0);
        assert_int_equal(chown(f->journal, OTHER_UID, OTHER_UID), 0);
        assert_open_refused(f, -EPERM, owner);
}

static void test_a_runtime_directory_others_could_write_or_a_symlink_is_refused(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *real = xasprintf("%s/real", f->dir);
        const char *const writable[] = { f->run, "writable by group or others", "1777", NULL };
        const char *const owner[] = { f->run, "not owned by the user vmtuned runs as", NULL };
        const char *const link[] = { f->run, "is a symlink", NULL };

        assert_int_equal(chmod(f->run, 01777), 0);
        assert_open_refused(f, -EPERM, writable);
        assert_false(tl_exists(f->run, "lock")); /* touched nothing */

        assert_int_equal(chmod(f->run, 0755), 0);
        if (geteuid() == 0) {
                assert_int_equal(chown(f->run, OTHER_UID, OTHER_UID), 0);
                assert_open_refused(f, -EPERM, owner);
                assert_false(tl_exists(f->run, "lock"));
        } else
                fprintf(stderr, "not root: cannot give the runtime directory another owner, that part skipped\n");

        assert_int_equal(rename(f->run, real), 0);
        assert_int_equal(symlink(real, f->run), 0);
        assert_open_refused(f, -ELOOP, link);
        assert_false(tl_exists(real, "lock"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_a_journal_naming_a_file_that_is_no_tunable_is_refused_and_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_record_refuses_a_path_that_is_no_tunable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_planted_hard_link_or_symlink_at_the_temporary_name_is_not_written_through, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_fifo_in_place_of_the_journal_is_refused_without_hanging, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_journal_others_could_write_is_refused_and_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_runtime_directory_others_could_write_or_a_symlink_is_refused, setup, teardown),
        };

        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
