/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for tests: temporary fixture trees, running the real daemon
 * binary under a notify socket the way systemd would, and tests/vm/vm. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A new temporary directory (mkdtemp); free() it and tl_rm_rf() it. */
char *tl_mkdtemp(const char *prefix);
void tl_rm_rf(const char *dir);

/* Write a file below dir, creating parent directories; aborts on failure. */
void tl_write(const char *dir, const char *rel, const char *content);
/* The contents of dir/rel (malloc'd), or NULL if it cannot be read. */
char *tl_read(const char *dir, const char *rel);
bool tl_exists(const char *dir, const char *rel);
/* Create a symlink dir/rel -> target, creating parent directories. */
void tl_symlink(const char *dir, const char *rel, const char *target);

/* A temporary fixture root opened as a kroot, for cmocka setup/teardown:
 * *state is a struct tl_root. */
#include "base/kfile.h"
struct tl_root {
        char *dir;
        struct kroot root;
};
int tl_root_setup(void **state);
int tl_root_teardown(void **state);

/* A daemon run. stderr goes to a file we can read back. */
struct tl_daemon {
        pid_t pid;
        int notify_fd;        /* datagram socket the child's NOTIFY_SOCKET names */
        char *notify_path;
        char *stderr_path;
        char notifications[8192]; /* every notification so far, '\n' separated */
        size_t n_notifications;
};

/* The path of the binary under test: $VMTUNED_BIN (set by make check). */
const char *tl_vmtuned_bin(void);
const char *tl_vmtunectl_bin(void);
const char *tl_srcdir(void);

/* Start argv (argv[0] is the program) with NOTIFY_SOCKET set; wait until it
 * says READY=1 (return 0) or exits first (return -1, *ret_status = exit code). */
int tl_daemon_start(struct tl_daemon *d, char *const *argv, int *ret_status);
/* Wait for a notification line that starts with prefix, up to timeout_ms;
 * true if it came. Earlier lines are kept in d->notifications. */
bool tl_daemon_wait_notify(struct tl_daemon *d, const char *prefix, int timeout_ms);
/* Send sig and wait for the exit; returns the exit code (128+N if killed). */
int tl_daemon_stop(struct tl_daemon *d, int sig);
/* Its stderr so far (malloc'd). */
char *tl_daemon_stderr(const struct tl_daemon *d);
void tl_daemon_free(struct tl_daemon *d);

/* Run argv to completion; return the exit code and (if ret_output) its
 * stdout+stderr, malloc'd. */
int tl_run(char *const *argv, char **ret_output);

/* Run argv like tl_run; return its stdout+stderr without the trailing new
 * lines and spaces (malloc'd), so a one-word answer compares as it is. The
 * exit code goes to *ret_code if ret_code is not NULL. */
char *tl_run_trimmed(char *const *argv, int *ret_code);

/* Run tests/vm/vm FUNCTION ARGS... (NULL-terminated): one function of
 * tests/vm/lib.sh, which starts the test libvirtd and its QEMU guests for
 * the host suites. Output and exit code as tl_run_trimmed. */
char *tl_vm(int *ret_code, const char *function, ...);

/* The daemon on a temporary fixture root, the way the system tests and the
 * journal host test run it: every path it is given lies below one
 * temporary directory, so it changes nothing on the machine and one
 * tl_rm_rf() removes all of it. The test writes the files it needs (the
 * fixture kernel below root, profiles, dir/vmtuned.conf) and then sets argv. */
struct tl_env {
        char *dir;              /* the temporary directory */
        char root[512];         /* --root: the fixture kernel, dir/root */
        char run[512];          /* --runtime-dir: rollback journal, control socket */
        char profiles[512];     /* --profile-dir */
        char config[512];       /* --config: dir/vmtuned.conf */
        char *argv[24];         /* the daemon's command line, set by tl_env_set_argv */
        struct tl_daemon d;     /* for tests that keep their run here; freed by the teardown */
};

/* A new environment below a new /tmp/PREFIX.XXXXXX; nothing written yet. */
struct tl_env *tl_env_setup(const char *prefix);
/* Set e->argv to `[LAUNCHER...] VMTUNED_BIN [--foreground] --root ROOT
 * --runtime-dir RUN --profile-dir PROFILES --config CONFIG`. launcher
 * (NULL-terminated, or NULL) runs first and execs the daemon: e.g. a shell
 * that sets an environment variable naming the daemon's own PID, which no
 * one knows before it runs. Without --foreground the daemon logs to the
 * journal, as under systemd. */
void tl_env_set_argv(struct tl_env *e, const char *const *launcher, bool foreground);
/* cmocka teardown for *state == a tl_env: kill a daemon still running in
 * e->d, remove the directory, free e. */
int tl_env_teardown(void **state);
