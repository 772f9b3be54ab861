/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Helpers for tests: temporary fixture trees, the tuning tests' fixture
 * kernel and rollback journal, checks of the values a fixture kernel shows,
 * running the real daemon binary under a notify socket the way systemd
 * would, vmtunectl, and tests/vm/vm. A helper that "fails the test" does so
 * through cmocka (fail_msg, assert_*): call it from a test or its set-up.
 * Helpers that are themselves checks are named tl_assert_*. */
#pragma once

#include <stdarg.h>
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

/* The fixture of the tuning tests (settings, rollback, hot-plug, KSM): one
 * tl_mkdtemp() directory DIR with the fixture kernel in DIR/root and the
 * runtime directory, where the rollback journal lives, in DIR/run. The
 * kroot and the journal stay in the test's own fixture struct, next to
 * what it builds on them. */
struct rollback;
/* Open DIR/root as *root (writable) and a new rollback journal in DIR/run
 * as *rb, once the test has written its fixture files below DIR/root.
 * Fails the test unless both open and DIR/run held no journal before. */
void tl_open_root_and_journal(const char *dir, struct kroot *root, struct rollback **rb);
/* What kill -9 of the journal's owner leaves: the journal on disk and the
 * runtime directory's lock released, so the next rollback_open() of the
 * same directory (in this process) finds a dead run's journal. */
void tl_journal_owner_died(struct rollback *rb);
/* The teardown of the above: free rb, close root, remove DIR and free it. */
void tl_close_root_and_journal(char *dir, struct kroot *root, struct rollback *rb);

/* A profile literal with the given settings (struct setting initialisers,
 * from config/profile.h), for tests that plan or apply a profile without
 * writing a file: TL_PROFILE("test", SET(...), SET(...)). */
#define TL_PROFILE(profile_name, ...)                                                \
        (&(struct profile){ .name = (char *) (profile_name),                         \
                            .settings = (struct setting[]){ __VA_ARGS__ },           \
                            .n_settings = sizeof((struct setting[]){ __VA_ARGS__ }) / sizeof(struct setting) })

/* The fixture of the planning tests of [cpu] and [hugepages]: a kernel
 * tree and journal (tl_open_root_and_journal) and the last plan. */
struct profile;
struct tl_plan_fixture {
        char *dir;
        struct kroot root;
        struct rollback *rb;
        struct target_list *targets;
};
/* Plan p on f's root into f->targets (the earlier plan freed). */
void tl_plan(struct tl_plan_fixture *f, const struct profile *p);
/* cmocka teardown for *state == a malloc'd tl_plan_fixture. */
int tl_plan_fixture_teardown(void **state);

/* A plan's target by key, or NULL; does one of its notes contain text? */
struct target_list;
const struct target *tl_find_target(const struct target_list *l, const char *key);
bool tl_has_note(const struct target_list *l, const char *text);

/* One file of a fixture tree: its path below the tree, and what it holds. */
struct tl_file {
        const char *rel;
        const char *content;
};
/* Write files[0..n) below dir (tl_write). */
void tl_write_files(const char *dir, const struct tl_file *files, size_t n);

/* The value the file root/rel shows, read the way kfile_read_value() reads
 * a kernel file: white space folded and, of a selector ("always [madvise]
 * never"), the selected word (malloc'd). Fails the test if it cannot be read. */
char *tl_read_value(const char *root, const char *rel);
/* Fail the test, naming the file, unless root/rel shows want (tl_read_value). */
void tl_assert_value(const char *root, const char *rel, const char *want);
/* A two-node fixture kernel below root with the QEMU process of domain
 * NAME (pid, a vCPU thread on CPUs 0-1, its cgroup, 1 MiB on node 0), so
 * that the balancer samples it and lists it on node0 in its node table. */
void tl_write_sampled_domain(const char *root, const char *name, int pid);
/* Fail the test unless each of files[0..n) below root shows the value it
 * was written with (as tl_read_value reads it): never changed, or restored. */
void tl_assert_originals(const char *root, const struct tl_file *files, size_t n);

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
/* tl_daemon_start(), failing the test with the exit code and the daemon's
 * stderr if it exits before READY=1. */
void tl_assert_daemon_starts(struct tl_daemon *d, char *const *argv);
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

/* Run vmtunectl --runtime-dir RUN ARGS... (NULL-terminated) like tl_run:
 * its exit code, and its stdout+stderr in *ret_output if that is not NULL.
 * tl_vmtunectlv takes the ARGS as a va_list, for a test's own wrapper. */
int tl_vmtunectl(const char *run, char **ret_output, ...);
int tl_vmtunectlv(const char *run, char **ret_output, va_list args);

/* For a host suite's setup: true when it runs as root, as the host suites
 * must; otherwise it says so on stderr and returns false. */
bool tl_running_as_root(void);

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
        char state[512];        /* --state-dir: the persisted profile choice, never /var/lib */
        char profiles[512];     /* --profile-dir */
        char config[512];       /* --config: dir/vmtuned.conf */
        char *argv[24];         /* the daemon's command line, set by tl_env_set_argv */
        struct tl_daemon d;     /* for tests that keep their run here; freed by the teardown */
};

/* A new environment below a new /tmp/PREFIX.XXXXXX; nothing written yet. */
struct tl_env *tl_env_setup(const char *prefix);
/* Set e->argv to `[LAUNCHER...] VMTUNED_BIN [--foreground] --root ROOT
 * --runtime-dir RUN --state-dir STATE --profile-dir PROFILES --config CONFIG`. launcher
 * (NULL-terminated, or NULL) runs first and execs the daemon: e.g. a shell
 * that sets an environment variable naming the daemon's own PID, which no
 * one knows before it runs. Without --foreground the daemon logs to the
 * journal, as under systemd. */
void tl_env_set_argv(struct tl_env *e, const char *const *launcher, bool foreground);
/* The host suites' daemon command line: VMTUNED_BIN --foreground --root /
 * (this machine's kernel), with vmtuned's own files below workdir: run/,
 * state/ (never the host's /var/lib/vmtuned) and vmtuned.conf, which the
 * test writes; profiles from profile_dir (NULL: workdir/profiles); extra
 * (or NULL) last. Static storage, valid until the next call. */
char *const *tl_host_argv(const char *workdir, const char *profile_dir, const char *extra);
/* cmocka teardown for *state == a tl_env: kill a daemon still running in
 * e->d, remove the directory, free e. */
int tl_env_teardown(void **state);
