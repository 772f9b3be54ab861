/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): vmtuned under systemd's own
 * tooling, without systemd as PID 1. The daemon runs as the unit runs it,
 * without --foreground (so it logs to the journal), on a fixture root (so
 * it changes nothing on this machine), with a NOTIFY_SOCKET this test
 * listens on and WATCHDOG_USEC/WATCHDOG_PID set as systemd sets them. We
 * check READY=1, STATUS=, WATCHDOG=1, RELOADING=1 on SIGHUP and STOPPING=1,
 * and that journalctl finds its events by MESSAGE_ID and VMTUNED_* fields,
 * and that journalctl -x explains them from systemd/vmtuned.catalog.
 *
 * If no systemd-journald runs, the test starts one by hand (it creates its
 * own sockets in /run/systemd/journal when not socket-activated, and keeps
 * a volatile journal in /run/log/journal), and stops it and removes what it
 * created afterwards, also when an assertion fails. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/log.h"
#include "testlib.h"

#define JOURNALD "/lib/systemd/systemd-journald"
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journald {
        pid_t pid;               /* > 0: we started it */
        bool made_socket_dir;    /* /run/systemd/journal did not exist */
        bool made_log_dir;       /* /run/log did not exist */
        bool made_journal_dir;   /* /run/log/journal did not exist */
};

static struct journald journald;

/* Does a journald answer on its socket (and not a stale socket file)? */
static bool journald_alive(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET };
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool alive;

        if (fd < 0)
                return false;
        alive = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
        return alive;
}

static bool exists(const char *path)
{
        struct stat st;

        return stat(path, &st) == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Only the two directories journald makes, never anything else. */
static void rm_journald_dir(const char *dir)
{
        if (strcmp(dir, "/run/systemd/journal") == 0 || strcmp(dir, "/run/log/journal") == 0)
                (void) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void journald_stop(void)
{
        if (journald.pid <= 0)
                return;
        kill(journald.pid, SIGTERM);
        waitpid(journald.pid, NULL, 0);
        journald.pid = 0;
        /* Leave /run as we found it. */
        if (journald.made_socket_dir)
                rm_journald_dir("/run/systemd/journal");
        if (journald.made_journal_dir)
                rm_journald_dir("/run/log/journal");
        if (journald.made_log_dir)
                (void) rmdir("/run/log");
}

static int journald_start(void)
{
        journald = (struct journald){
                .made_socket_dir = !exists("/run/systemd/journal"),
                .made_log_dir = !exists("/run/log"),
                .made_journal_dir = !exists("/run/log/journal"),
        };
        journald.pid = fork();
        if (journald.pid < 0)
                return -errno;
        if (journald.pid == 0) {
                int null = open("/dev/null", O_RDWR);

                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                setsid();
                execl(JOURNALD, JOURNALD, (char *) NULL);
                _exit(127);
        }
        for (int i = 0; i < 100; i++) {
                if (journald_alive())
                        return 0;
                if (waitpid(journald.pid, NULL, WNOHANG) == journald.pid) {
                        journald.pid = 0;
                        return -ECHILD;
                }
                usleep(50 * 1000);
        }
        journald_stop();
        return -ETIMEDOUT;
}

/* --- the daemon ---------------------------------------------------------- */

static int setup(void **state)
{
        /* systemd sets WATCHDOG_PID to the service's PID: the shell's $$ is
         * the daemon's PID once it execs. */
        static const char *const watchdog_env_launcher[] = {
                "/bin/sh", "-c", "WATCHDOG_PID=$$ WATCHDOG_USEC=2000000 exec \"$0\" \"$@\"", NULL
        };
        struct tl_env *e = tl_env_setup("vmtuned-journal");

        tl_write(e->root, "proc/sys/vm/swappiness", "60\n");
        tl_write(e->root, "proc/sys/vm/dirty_ratio", "20\n");
        tl_write(e->profiles, "test.conf", "[main]\nsummary = journal test\n[sysctl]\n"
                                           "vm.swappiness = 10\nvm.dirty_ratio = 40\n");
        tl_write(e->profiles, "other.conf", "[sysctl]\nvm.swappiness = 30\n");
        tl_write(e->dir, "vmtuned.conf", "[vmtuned]\nprofile = test\nlibvirt_uri = test:///default\n"
                                         "[balancer]\nenabled = no\n");
        /* Not --foreground: it logs to the journal, as the unit runs it. */
        tl_env_set_argv(e, watchdog_env_launcher, false);
        *state = e;
        return 0;
}

static int group_setup(void **state)
{
        int r;

        if (geteuid() != 0 || access(JOURNALD, X_OK) < 0)
                return 0; /* the test skips */
        if (journald_alive())
                return 0;
        r = journald_start();
        if (r < 0)
                fprintf(stderr, "cannot start %s: %s\n", JOURNALD, strerror(-r));
        return r < 0 ? -1 : 0;
}

static int group_teardown(void **state)
{
        journald_stop();
        return 0;
}

/* journalctl MATCH [MATCH2] for this run's PID, output only the messages;
 * polled, since journald writes what it receives a moment later. */
static char *journal2(pid_t pid, const char *match, const char *match2, const char *want)
{
        char pid_match[32], *out = NULL;
        char *argv[] = { (char *) "/usr/bin/journalctl", (char *) "--no-pager", (char *) "-o", (char *) "cat",
                         pid_match, (char *) match, (char *) match2, NULL };

        snprintf(pid_match, sizeof(pid_match), "_PID=%d", (int) pid);
        for (int i = 0; i < 50; i++) {
                free(out);
                out = NULL;
                (void) tl_run(argv, &out);
                if (strstr(out, want))
                        return out;
                usleep(100 * 1000);
        }
        fail_msg("journalctl %s %s %s: no \"%s\" in:\n%s", pid_match, match, match2 ? match2 : "", want, out);
        return NULL;
}

static char *journal(pid_t pid, const char *match, const char *want)
{
        return journal2(pid, match, NULL, want);
}

/* journalctl -x for this run's started event, with the catalog read from
 * systemd/vmtuned.catalog: journalctl --update-catalog builds its database
 * in a temporary --root, and journalctl -x runs in a mount namespace of its
 * own where that database is bind-mounted over /var/lib/systemd/catalog.
 * The host's catalog database is never touched. */
static char *journal_explained(pid_t pid)
{
        _cleanup_free_ char *dir = tl_mkdtemp("vmtuned-catalog");
        _cleanup_free_ char *root_opt = xasprintf("--root=%s", dir);
        _cleanup_free_ char *db = xasprintf("%s/var/lib/systemd/catalog", dir);
        _cleanup_free_ char *script = xasprintf("mount --bind \"$1\" /var/lib/systemd/catalog && exec journalctl "
                                                "--no-pager -x _PID=%d MESSAGE_ID=%s", (int) pid, MSGID_STARTED);
        _cleanup_free_ char *text = tl_read(getenv("VMTUNED_SRCDIR"), "systemd/vmtuned.catalog");
        char *update[] = { (char *) "/usr/bin/journalctl", root_opt, (char *) "--update-catalog", NULL };
        char *show[] = { (char *) "/usr/bin/unshare", (char *) "--mount", (char *) "--propagation", (char *) "private",
                         (char *) "/bin/sh", (char *) "-c", script, (char *) "sh", db, NULL };
        char *out = NULL;

        tl_write(dir, "usr/lib/systemd/catalog/vmtuned.catalog", text);
        assert_int_equal(tl_run(update, &out), 0);
        free(out);
        assert_int_equal(tl_run(show, &out), 0);
        tl_rm_rf(dir);
        return out;
}

static void wait_ready_after_reloading(struct tl_daemon *d)
{
        for (int i = 0; i < 300; i++) {
                const char *reloading = strstr(d->notifications, "RELOADING=1");

                if (reloading && strstr(reloading, "READY=1"))
                        return;
                tl_daemon_wait_notify(d, "NEVER", 100);
        }
        fail_msg("no READY=1 after RELOADING=1:\n%s", d->notifications);
}

static void test_daemon_notifies_systemd_and_logs_structured_events_to_the_journal(void **state)
{
        struct tl_env *e = *state;
        char *out, *err, *ctl_out = NULL, match[96];
        char *ctl[] = { (char *) tl_vmtunectl_bin(), (char *) "--runtime-dir", e->run, (char *) "profile",
                        (char *) "other", NULL };
        pid_t pid;

        if (geteuid() != 0 || access(JOURNALD, X_OK) < 0 || !journald_alive()) {
                skip();
                return;
        }
        tl_assert_daemon_starts(&e->d, e->argv);
        pid = e->d.pid;

        assert_true(tl_daemon_wait_notify(&e->d, "STATUS=Profile test: 2 applied", 5000));
        assert_true(tl_daemon_wait_notify(&e->d, "WATCHDOG=1", 5000));

        /* A switch through the control socket is journaled too. */
        assert_int_equal(tl_run(ctl, &ctl_out), 0);
        free(ctl_out);

        kill(pid, SIGHUP);
        assert_true(tl_daemon_wait_notify(&e->d, "RELOADING=1", 10000));
        wait_ready_after_reloading(&e->d);
        assert_int_equal(tl_daemon_stop(&e->d, SIGTERM), 0);
        assert_non_null(strstr(e->d.notifications, "STOPPING=1"));

        /* Nothing on stderr: every line went to the journal. */
        err = tl_daemon_stderr(&e->d);
        assert_null(strstr(err, "vmtuned["));
        free(err);

        snprintf(match, sizeof(match), "MESSAGE_ID=%s", MSGID_STARTED);
        out = journal(pid, match, "started with profile test");
        free(out);
        snprintf(match, sizeof(match), "MESSAGE_ID=%s", MSGID_SETTING_APPLIED);
        out = journal(pid, match, "sysctl vm.dirty_ratio: 20 -> 40");
        free(out);
        /* The setting's parts are fields of their own: no quoting. */
        out = journal2(pid, "VMTUNED_SECTION=sysctl", "VMTUNED_KEY=vm.swappiness", "sysctl vm.swappiness: 60 -> 10");
        free(out);
        out = journal(pid, "VMTUNED_SETTING=sysctl vm.dirty_ratio", "sysctl vm.dirty_ratio: 20 -> 40");
        free(out);
        /* Numbers are fields of their own too. */
        out = journal2(pid, "VMTUNED_PROFILE=other", "VMTUNED_APPLIED=1", "profile other applied: 1 changed");
        free(out);
        snprintf(match, sizeof(match), "MESSAGE_ID=%s", MSGID_RELOADED);
        /* The choice made with vmtunectl lasts across the reload. */
        out = journal(pid, match, "configuration reloaded; profile other");
        free(out);
        snprintf(match, sizeof(match), "MESSAGE_ID=%s", MSGID_SETTING_RESTORED);
        out = journal(pid, match, "(restored)");
        free(out);
        snprintf(match, sizeof(match), "MESSAGE_ID=%s", MSGID_STOPPED);
        out = journal(pid, match, "original settings restored");
        free(out);
        /* journalctl -x explains the event from the catalog, with the
         * entry's own fields in its subject. */
        if (access("/var/lib/systemd/catalog", F_OK) == 0) {
                out = journal_explained(pid);
                if (!strstr(out, "Subject: vmtuned started with profile test") ||
                    !strstr(out, "Defined-By: vmtuned") || !strstr(out, "Documentation: man:vmtuned(8)") ||
                    !strstr(out, "so that a stop puts them back"))
                        fail_msg("journalctl -x shows no catalog text for the started event:\n%s", out);
                free(out);
        } else
                fprintf(stderr, "no /var/lib/systemd/catalog on this host: journalctl -x not checked\n");
        /* And the values are back. */
        out = tl_read(e->root, "proc/sys/vm/swappiness");
        assert_string_equal(out, "60\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_daemon_notifies_systemd_and_logs_structured_events_to_the_journal,
                                                setup, tl_env_teardown),
        };
        /* Also on an abort: a journald we started must not outlive us. */
        atexit(journald_stop);
        return cmocka_run_group_tests_name("vmtuned under systemd's tooling", tests, group_setup,
                                           group_teardown);
}
