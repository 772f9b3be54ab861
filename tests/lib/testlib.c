/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "testlib.h"
#include "tuning/plan.h"
#include "tuning/target.h"

#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/util.h"
#include "tuning/rollback.h"

static void die(const char *what)
{
        fprintf(stderr, "testlib: %s: %s\n", what, strerror(errno));
        abort();
}

char *tl_mkdtemp(const char *prefix)
{
        char *t;

        if (asprintf(&t, "/tmp/%s.XXXXXX", prefix) < 0 || !mkdtemp(t))
                die("mkdtemp");
        return t;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void tl_rm_rf(const char *dir)
{
        if (dir && strncmp(dir, "/tmp/", 5) == 0) /* never anywhere else */
                (void) nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void mkdir_parents(const char *path)
{
        char buf[PATH_MAX];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        die(buf);
                *p = '/';
        }
}

void tl_write(const char *dir, const char *rel, const char *content)
{
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        mkdir_parents(path);
        f = fopen(path, "w");
        if (!f || fputs(content, f) < 0 || fclose(f) != 0)
                die(path);
}

char *tl_read(const char *dir, const char *rel)
{
        char path[PATH_MAX], *buf = NULL;
        size_t size = 0;
        FILE *f, *m;
        int c;

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        f = fopen(path, "r");
        if (!f)
                return NULL;
        m = open_memstream(&buf, &size);
        if (!m)
                die("open_memstream");
        while ((c = fgetc(f)) != EOF)
                fputc(c, m);
        fclose(f);
        fclose(m);
        return buf;
}

bool tl_exists(const char *dir, const char *rel)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        return access(path, F_OK) == 0;
}

void tl_symlink(const char *dir, const char *rel, const char *target)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        mkdir_parents(path);
        if (symlink(target, path) < 0)
                die(path);
}

static const char *env_or(const char *name, const char *fallback)
{
        const char *v = getenv(name);
        return v && *v ? v : fallback;
}

const char *tl_vmtuned_bin(void) { return env_or("VMTUNED_BIN", "build/asan/vmtuned"); }
const char *tl_vmtunectl_bin(void) { return env_or("VMTUNECTL_BIN", "build/asan/vmtunectl"); }
const char *tl_srcdir(void) { return env_or("VMTUNED_SRCDIR", "."); }

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read whatever notifications arrived within timeout_ms into d. */
static void read_notifications(struct tl_daemon *d, int timeout_ms)
{
        struct pollfd p = { .fd = d->notify_fd, .events = POLLIN };
        char buf[4096];
        ssize_t n;

        if (poll(&p, 1, timeout_ms) <= 0)
                return;
        while ((n = recv(d->notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
                size_t room = sizeof(d->notifications) - d->n_notifications - 2;
                size_t len = (size_t) n < room ? (size_t) n : room;

                memcpy(d->notifications + d->n_notifications, buf, len);
                d->n_notifications += len;
                d->notifications[d->n_notifications++] = '\n';
                d->notifications[d->n_notifications] = '\0';
        }
}

static bool has_line(const char *text, const char *prefix)
{
        size_t len = strlen(prefix);

        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, prefix, len) == 0)
                        return true;
        return false;
}

bool tl_daemon_wait_notify(struct tl_daemon *d, const char *prefix, int timeout_ms)
{
        long deadline = now_ms() + timeout_ms;

        while (!has_line(d->notifications, prefix)) {
                long left = deadline - now_ms();
                if (left <= 0)
                        return false;
                read_notifications(d, left < 100 ? (int) left : 100);
                if (d->pid > 0 && waitpid(d->pid, NULL, WNOHANG | WNOWAIT) == d->pid) {
                        read_notifications(d, 0);
                        return has_line(d->notifications, prefix);
                }
        }
        return true;
}

static int exit_code(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

int tl_daemon_start(struct tl_daemon *d, char *const *argv, int *ret_status)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char *dir = tl_mkdtemp("vmtuned-notify");
        int status;

        memset(d, 0, sizeof(*d));
        if (asprintf(&d->notify_path, "%s/notify", dir) < 0 ||
            asprintf(&d->stderr_path, "%s/stderr", dir) < 0)
                die("asprintf");
        free(dir);
        d->notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->notify_path);
        if (d->notify_fd < 0 || bind(d->notify_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                die("notify socket");

        d->pid = fork();
        if (d->pid < 0)
                die("fork");
        if (d->pid == 0) {
                int fd = open(d->stderr_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                setenv("NOTIFY_SOCKET", d->notify_path, 1);
                execv(argv[0], argv);
                _exit(127);
        }
        if (tl_daemon_wait_notify(d, "READY=1", 60000))
                return 0;
        /* It exited (or hung) before READY=1. */
        kill(d->pid, SIGKILL);
        waitpid(d->pid, &status, 0);
        d->pid = 0;
        if (ret_status)
                *ret_status = exit_code(status);
        return -1;
}

void tl_assert_daemon_starts(struct tl_daemon *d, char *const *argv)
{
        int status = 0;

        if (tl_daemon_start(d, argv, &status) < 0) {
                _cleanup_free_ char *err = tl_daemon_stderr(d);

                fail_msg("daemon exited with %d before READY=1:\n%s", status, err);
        }
}

int tl_daemon_stop(struct tl_daemon *d, int sig)
{
        int status;

        if (d->pid <= 0)
                return -1;
        kill(d->pid, sig);
        if (waitpid(d->pid, &status, 0) < 0)
                die("waitpid");
        d->pid = 0;
        read_notifications(d, 0);
        return exit_code(status);
}

char *tl_daemon_stderr(const struct tl_daemon *d)
{
        char *s = tl_read("/", d->stderr_path + 1);
        return s ? s : strdup("");
}

void tl_daemon_free(struct tl_daemon *d)
{
        char *dir;

        if (d->pid > 0) {
                kill(d->pid, SIGKILL);
                waitpid(d->pid, NULL, 0);
        }
        if (d->notify_fd > 0)
                close(d->notify_fd);
        if (d->notify_path) {
                dir = strdup(d->notify_path);
                *strrchr(dir, '/') = '\0';
                tl_rm_rf(dir);
                free(dir);
        }
        free(d->notify_path);
        free(d->stderr_path);
        memset(d, 0, sizeof(*d));
}

int tl_run(char *const *argv, char **ret_output)
{
        char *dir = tl_mkdtemp("vmtuned-run"), *out_path;
        pid_t pid;
        int status;

        if (asprintf(&out_path, "%s/out", dir) < 0)
                die("asprintf");
        pid = fork();
        if (pid < 0)
                die("fork");
        if (pid == 0) {
                int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                unsetenv("NOTIFY_SOCKET");
                execv(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid");
        if (ret_output) {
                *ret_output = tl_read("/", out_path + 1);
                if (!*ret_output)
                        *ret_output = strdup("");
        }
        free(out_path);
        tl_rm_rf(dir);
        free(dir);
        return exit_code(status);
}

int tl_root_setup(void **state)
{
        struct tl_root *f = calloc(1, sizeof(*f));

        if (!f)
                die("calloc");
        f->dir = tl_mkdtemp("vmtuned-root");
        if (kroot_open(f->dir, false, &f->root) < 0)
                die("kroot_open");
        *state = f;
        return 0;
}

int tl_root_teardown(void **state)
{
        struct tl_root *f = *state;

        kroot_close(&f->root);
        tl_rm_rf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

void tl_open_root_and_journal(const char *dir, struct kroot *root, struct rollback **rb)
{
        _cleanup_free_ char *root_dir = xasprintf("%s/root", dir);
        _cleanup_free_ char *run_dir = xasprintf("%s/run", dir);
        bool stale = true;

        assert_int_equal(kroot_open(root_dir, false, root), 0);
        assert_int_equal(rollback_open(run_dir, rb, &stale), 0);
        assert_false(stale);
}

void tl_journal_owner_died(struct rollback *rb)
{
        if (rb->lock_fd >= 0)
                close(rb->lock_fd);
        rb->lock_fd = -1;
}

void tl_close_root_and_journal(char *dir, struct kroot *root, struct rollback *rb)
{
        rollback_free(rb);
        kroot_close(root);
        tl_rm_rf(dir);
        free(dir);
}

void tl_write_files(const char *dir, const struct tl_file *files, size_t n)
{
        for (size_t i = 0; i < n; i++)
                tl_write(dir, files[i].rel, files[i].content);
}

char *tl_read_value(const char *root, const char *rel)
{
        char *s = tl_read(root, rel);

        if (!s)
                fail_msg("%s/%s: cannot read it: %s", root, rel, strerror(errno));
        kfile_normalize(s);
        kfile_selected(s);
        return s;
}

void tl_assert_value(const char *root, const char *rel, const char *want)
{
        _cleanup_free_ char *got = tl_read_value(root, rel);

        if (strcmp(got, want) != 0)
                fail_msg("%s: got '%s', want '%s'", rel, got, want);
}

/* A one-node fixture kernel with the QEMU process of domain NAME (pid, a
 * vCPU thread on CPUs 0-1, its cgroup), so that the balancer samples it
 * and lists it on node0 in its node table. */
void tl_write_sampled_domain(const char *root, const char *name, int pid)
{
        char rel[256], text[256];

        /* Two nodes: with one there is nothing to balance, and no tick. */
        tl_write(root, "sys/devices/system/node/online", "0-1\n");
        for (int node = 0; node < 2; node++) {
                snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/cpulist", node);
                tl_write(root, rel, node ? "2-3\n" : "0-1\n");
                snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/distance", node);
                tl_write(root, rel, node ? "20 10\n" : "10 20\n");
                snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/meminfo", node);
                snprintf(text, sizeof(text), "Node %d MemTotal: 4194304 kB\nNode %d MemFree: 2097152 kB\n", node,
                         node);
                tl_write(root, rel, text);
        }
        snprintf(rel, sizeof(rel), "run/libvirt/qemu/%s.pid", name);
        snprintf(text, sizeof(text), "%d\n", pid);
        tl_write(root, rel, text);
        snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
        tl_write(root, rel, "0::/machine.slice/machine-qemu\\x2d1\\x2dweb.scope/libvirt/emulator\n");
        snprintf(rel, sizeof(rel), "proc/%d/numa_maps", pid);
        tl_write(root, rel, "7f0000000000 default anon=256 dirty=256 N0=256 kernelpagesize_kB=4\n");
        for (int tid = pid; tid <= pid + 1; tid++) {
                snprintf(rel, sizeof(rel), "proc/%d/task/%d/comm", pid, tid);
                tl_write(root, rel, tid == pid ? "qemu-system-x86\n" : "CPU 0/KVM\n");
                snprintf(rel, sizeof(rel), "proc/%d/task/%d/status", pid, tid);
                tl_write(root, rel, "Name:\tqemu\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n");
                snprintf(rel, sizeof(rel), "proc/%d/task/%d/schedstat", pid, tid);
                tl_write(root, rel, "1000000 500000 10\n");
                snprintf(rel, sizeof(rel), "proc/%d/task/%d/stat", pid, tid);
                snprintf(text, sizeof(text), "%d (qemu) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0 0 0 0 0 0 0 "
                         "0 0 0 0 0 0 0 0 0 0 1 0 0 0 0 0\n", tid);
                tl_write(root, rel, text);
        }
}

void tl_assert_originals(const char *root, const struct tl_file *files, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *original = xstrdup(files[i].content);

                kfile_normalize(original);
                kfile_selected(original);
                tl_assert_value(root, files[i].rel, original);
        }
}

bool tl_running_as_root(void)
{
        if (geteuid() == 0)
                return true;
        fprintf(stderr, "host tests need root\n");
        return false;
}

/* Append the NULL-terminated words of args to argv[0..n) and end it with
 * NULL; more words than argv holds is a bug in the test, not something to
 * cut short. */
static void argv_append(char **argv, size_t size, size_t n, va_list args)
{
        for (char *a; (a = va_arg(args, char *));) {
                if (n + 1 >= size) {
                        errno = E2BIG;
                        die("argv_append");
                }
                argv[n++] = a;
        }
        argv[n] = NULL;
}

int tl_vmtunectlv(const char *run, char **ret_output, va_list args)
{
        char *argv[24] = { (char *) tl_vmtunectl_bin(), (char *) "--runtime-dir", (char *) run };

        argv_append(argv, ARRAY_SIZE(argv), 3, args);
        return tl_run(argv, ret_output);
}

int tl_vmtunectl(const char *run, char **ret_output, ...)
{
        va_list args;
        int code;

        va_start(args, ret_output);
        code = tl_vmtunectlv(run, ret_output, args);
        va_end(args);
        return code;
}

char *tl_run_trimmed(char *const *argv, int *ret_code)
{
        char *out = NULL;
        int code = tl_run(argv, &out);
        size_t len = strlen(out);

        while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
                out[--len] = '\0';
        if (ret_code)
                *ret_code = code;
        return out;
}

char *tl_vm(int *ret_code, const char *function, ...)
{
        char tool[PATH_MAX], *argv[16] = { tool, (char *) function };
        va_list ap;

        snprintf(tool, sizeof(tool), "%s/tests/vm/vm", tl_srcdir());
        va_start(ap, function);
        argv_append(argv, ARRAY_SIZE(argv), 2, ap);
        va_end(ap);
        return tl_run_trimmed(argv, ret_code);
}

struct tl_env *tl_env_setup(const char *prefix)
{
        struct tl_env *e = calloc(1, sizeof(*e));

        if (!e)
                die("calloc");
        e->dir = tl_mkdtemp(prefix);
        snprintf(e->root, sizeof(e->root), "%s/root", e->dir);
        snprintf(e->run, sizeof(e->run), "%s/run", e->dir);
        snprintf(e->state, sizeof(e->state), "%s/state", e->dir);
        snprintf(e->profiles, sizeof(e->profiles), "%s/profiles", e->dir);
        snprintf(e->config, sizeof(e->config), "%s/vmtuned.conf", e->dir);
        return e;
}

/* Append arg to e->argv, keeping it NULL-terminated; a launcher too long
 * for the array is a bug in the test, not something to cut short. */
static void env_argv_add(struct tl_env *e, size_t *n, const char *arg)
{
        if (*n + 1 >= sizeof(e->argv) / sizeof(e->argv[0])) {
                errno = E2BIG;
                die("tl_env_set_argv");
        }
        e->argv[(*n)++] = (char *) arg;
        e->argv[*n] = NULL;
}

void tl_env_set_argv(struct tl_env *e, const char *const *launcher, bool foreground)
{
        const char *const paths[] = { "--root", e->root, "--runtime-dir", e->run, "--state-dir", e->state,
                                      "--profile-dir", e->profiles, "--config", e->config };
        size_t n = 0;

        for (; launcher && *launcher; launcher++)
                env_argv_add(e, &n, *launcher);
        env_argv_add(e, &n, tl_vmtuned_bin());
        if (foreground)
                env_argv_add(e, &n, "--foreground");
        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                env_argv_add(e, &n, paths[i]);
}

char *const *tl_host_argv(const char *workdir, const char *profile_dir, const char *extra)
{
        static char run[512], state[512], profiles[512], config[512];
        static char *argv[16];
        size_t n = 0;

        snprintf(run, sizeof(run), "%s/run", workdir);
        snprintf(state, sizeof(state), "%s/state", workdir);
        if (profile_dir)
                snprintf(profiles, sizeof(profiles), "%s", profile_dir);
        else
                snprintf(profiles, sizeof(profiles), "%s/profiles", workdir);
        snprintf(config, sizeof(config), "%s/vmtuned.conf", workdir);
        argv[n++] = (char *) tl_vmtuned_bin();
        argv[n++] = (char *) "--foreground";
        argv[n++] = (char *) "--root";
        argv[n++] = (char *) "/";
        argv[n++] = (char *) "--runtime-dir";
        argv[n++] = run;
        argv[n++] = (char *) "--state-dir";
        argv[n++] = state;
        argv[n++] = (char *) "--profile-dir";
        argv[n++] = profiles;
        argv[n++] = (char *) "--config";
        argv[n++] = config;
        if (extra)
                argv[n++] = (char *) extra;
        argv[n] = NULL;
        return argv;
}

int tl_env_teardown(void **state)
{
        struct tl_env *e = *state;

        tl_daemon_free(&e->d);
        tl_rm_rf(e->dir);
        free(e->dir);
        free(e);
        return 0;
}

const struct target *tl_find_target(const struct target_list *l, const char *key)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->v[i].key, key) == 0)
                        return &l->v[i];
        return NULL;
}

bool tl_has_note(const struct target_list *l, const char *text)
{
        for (size_t i = 0; i < l->n_notes; i++)
                if (strstr(l->notes[i].text, text))
                        return true;
        return false;
}

void tl_plan(struct tl_plan_fixture *f, const struct profile *p)
{
        if (!f->targets)
                f->targets = xcalloc(1, sizeof(*f->targets));
        target_list_free(f->targets);
        assert_int_equal(settings_plan(&f->root, p, f->targets), 0);
}

int tl_plan_fixture_teardown(void **state)
{
        struct tl_plan_fixture *f = *state;

        if (f->targets)
                target_list_free(f->targets);
        free(f->targets);
        tl_close_root_and_journal(f->dir, &f->root, f->rb);
        free(f);
        return 0;
}
