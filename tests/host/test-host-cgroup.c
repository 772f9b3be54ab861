/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): finding a process's cgroup on
 * this machine's real cgroup trees. Two child processes are put into
 * cgroups the test creates (below the cgroups the test itself is in, so
 * every limit on those still holds), in two v1 hierarchies (cpuset, memory)
 * and in the v2 one (on a hybrid host: /sys/fs/cgroup/unified), named the
 * way libvirt names a domain's thread cgroup without systemd
 * ("qemu-1-vm01.libvirt-qemu/emulator"). The second child's name holds a
 * space: libvirt strips those from its own names, but a cgroup someone else
 * made may carry one. Where each child is is known because the test put it
 * there; what libcgroup and vmtuned's parsers say is checked against that.
 * The cgroups are removed and the children killed afterwards, also when an
 * assertion fails.
 *
 * A second test shows a cgroup-v2-only host (Debian 12's default) to both
 * readers without changing this one: in a private mount namespace, files
 * bind-mounted over /proc/PID/cgroup, /proc/self/mounts and mountinfo. */
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/kfile.h"
#include "base/procparse.h"
#include "base/util.h"
#include "testlib.h"
#include "virt/cgroup.h"

/* Below the test's own cgroup in each hierarchy: each child's domain
 * cgroup (what the domain table reports) and the thread directory in it. */
static const char *const domain_dirs[] = { "qemu-1-vm01.libvirt-qemu", "qemu-2-vm 02.libvirt-qemu" };
#define N_CHILDREN ARRAY_SIZE(domain_dirs)

struct hierarchy {
        const char *controller;  /* asked for; for v2 the first one it offers */
        bool v2;
        char *mount_point;       /* "/sys/fs/cgroup/cpuset" */
        char *top;               /* the cgroup the test made, in the hierarchy: "/vmtuned-host-cg.N" */
        bool made;
};

static struct hierarchy hier[3] = {
        { .controller = "cpuset" },
        { .controller = "memory" },
        { .controller = NULL, .v2 = true },
};
static char v2_controller[64];
static pid_t children[N_CHILDREN];

static char *read_file(const char *path)
{
        char *s = tl_read("/", path + 1);

        if (!s)
                fail_msg("cannot read %s", path);
        return s;
}

static int write_file(const char *path, const char *value)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, value, strlen(value));
        close(fd);
        return n < 0 ? -errno : 0;
}

/* A v1 cpuset takes no task before its cpus and mems are set: copy the
 * parent's, which is what clone_children would do. */
static void make_cgroup(const struct hierarchy *h, const char *parent, const char *dir)
{
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %s", dir, strerror(errno));
        if (!h->v2 && streq(h->controller, "cpuset"))
                for (const char *const *f = (const char *const[]){ "cpuset.cpus", "cpuset.mems", NULL }; *f; f++) {
                        _cleanup_free_ char *from = xasprintf("%s/%s", parent, *f);
                        _cleanup_free_ char *to = xasprintf("%s/%s", dir, *f), *v = read_file(from);

                        if (write_file(to, v) < 0)
                                fail_msg("write %s: %s", to, strerror(errno));
                }
}

static void remove_cgroups(void)
{
        for (size_t c = 0; c < N_CHILDREN; c++)
                if (children[c] > 0) {
                        kill(children[c], SIGKILL);
                        waitpid(children[c], NULL, 0);
                        children[c] = 0;
                }
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                struct hierarchy *h = &hier[i];

                if (!h->made)
                        continue;
                for (size_t c = 0; c <= N_CHILDREN; c++)
                        for (int depth = 1; depth >= 0; depth--) {
                                _cleanup_free_ char *dir = c == N_CHILDREN ?
                                        xasprintf("%s%s", h->mount_point, h->top) :
                                        xasprintf("%s%s/%s%s", h->mount_point, h->top, domain_dirs[c],
                                                  depth ? "/emulator" : "");

                                /* A killed task leaves its cgroup a moment after the wait. */
                                for (int k = 0; k < 50 && rmdir(dir) < 0 && errno == EBUSY; k++)
                                        usleep(20000);
                        }
                h->made = false;
        }
}

/* Where this process is in the hierarchy that has controller (v2: the
 * "0::" line), from the kernel's own /proc/self/cgroup. */
static char *self_path(const struct hierarchy *h)
{
        char *buf = read_file("/proc/self/cgroup"), *line, *save = NULL, *ret = NULL;

        for (line = strtok_r(buf, "\n", &save); line && !ret; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

                if (!c2)
                        continue;
                *c2 = '\0';
                if (h->v2 ? c1[1] == '\0' && strncmp(line, "0:", 2) == 0 : strstr(c1 + 1, h->controller) != NULL)
                        ret = strdup(streq(c2 + 1, "/") ? "" : c2 + 1);
        }
        free(buf);
        return ret;
}

static int setup(void **state)
{
        char *mountinfo, *controllers, *path;

        if (geteuid() != 0)
                return -1;
        atexit(remove_cgroups);
        mountinfo = read_file("/proc/self/mountinfo");
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                char *root = NULL;

                if (procparse_cgroup_mount(mountinfo, hier[i].v2 ? "" : hier[i].controller, hier[i].v2,
                                           &hier[i].mount_point, &root) < 0) {
                        fprintf(stderr, "no %s hierarchy mounted: this test wants a v1 or hybrid host\n",
                                hier[i].v2 ? "cgroup2" : hier[i].controller);
                        return -1;
                }
                free(root);
                path = self_path(&hier[i]);
                assert_non_null(path);
                hier[i].top = xasprintf("%s/vmtuned-host-cg.%d", path, (int) getpid());
                free(path);
        }
        free(mountinfo);

        /* A controller the v2 hierarchy offers (hugetlb on this kind of
         * hybrid host): asked for by name, as vmtuned asks for cpuset. */
        path = xasprintf("%s/cgroup.controllers", hier[2].mount_point);
        controllers = read_file(path);
        free(path);
        if (sscanf(controllers, "%63s", v2_controller) != 1) {
                fprintf(stderr, "the v2 hierarchy offers no controller\n");
                return -1;
        }
        free(controllers);
        hier[2].controller = v2_controller;

        for (size_t c = 0; c < N_CHILDREN; c++) {
                children[c] = fork();
                if (children[c] < 0)
                        return -1;
                if (children[c] == 0) {
                        pause();
                        _exit(0);
                }
        }
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                struct hierarchy *h = &hier[i];
                _cleanup_free_ char *top = xasprintf("%s%s", h->mount_point, h->top), *parent = xstrdup(top);

                *strrchr(parent, '/') = '\0';
                h->made = true;
                make_cgroup(h, parent, top);
                for (size_t c = 0; c < N_CHILDREN; c++) {
                        _cleanup_free_ char *dom = xasprintf("%s/%s", top, domain_dirs[c]);
                        _cleanup_free_ char *thread = xasprintf("%s/emulator", dom);
                        _cleanup_free_ char *procs = xasprintf("%s/cgroup.procs", thread);
                        char pid_s[32];

                        make_cgroup(h, top, dom);
                        make_cgroup(h, dom, thread);
                        snprintf(pid_s, sizeof(pid_s), "%d", (int) children[c]);
                        if (write_file(procs, pid_s) < 0)
                                fail_msg("moving a child to %s: %s", procs, strerror(errno));
                }
        }
        return 0;
}

static int teardown(void **state)
{
        remove_cgroups();
        return 0;
}

/* What libcgroup says, "(error)" when it says nothing. */
static char *libcgroup_dir(pid_t pid, const char *controller)
{
        char *path = NULL, *mount = NULL, *ret;
        int r = cgroup_get_current_controller_path(pid, controller, &path);

        if (r == 0)
                r = cgroup_get_subsys_mount_point(controller, &mount);
        ret = r == 0 ? xasprintf("%s%s", mount, path) : xasprintf("(error %d: %s)", r, cgroup_strerror(r));
        free(path);
        free(mount);
        return ret;
}

/* What vmtuned's parsers say, from the same two files. */
static char *parser_dir(pid_t pid, const char *controller)
{
        char *rel = xasprintf("proc/%d/cgroup", (int) pid), *cg = tl_read("/", rel);
        char *mountinfo = tl_read("/", "proc/self/mountinfo"), *path = NULL, *mount = NULL, *root = NULL, *ret;
        bool v2;

        if (cg && mountinfo && procparse_cgroup_path(cg, controller, &path, &v2) == 0 &&
            procparse_cgroup_mount(mountinfo, controller, v2, &mount, &root) == 0)
                ret = xasprintf("%s%s", mount, path);
        else
                ret = xstrdup("(error)");
        free(rel);
        free(cg);
        free(mountinfo);
        free(path);
        free(mount);
        free(root);
        return ret;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long rss_kib(void)
{
        char *status = read_file("/proc/self/status"), *p = strstr(status, "VmRSS:");
        long kib = p ? atol(p + strlen("VmRSS:")) : -1;

        free(status);
        return kib;
}

static void test_hybrid_host_thread_cgroup_as_created(void **state)
{
        struct kroot root;
        double t0, t1;
        long rss0, rss1;
        int wrong_lib = 0, wrong_place = 0, n = 0;

        rss0 = rss_kib();
        t0 = now_ms();
        assert_int_equal(cgroup_init(), 0);
        t1 = now_ms();
        rss1 = rss_kib();
        fprintf(stderr, "  cgroup_init: %.3f ms, VmRSS %+ld KiB\n", t1 - t0, rss1 - rss0);
        assert_int_equal(kroot_open("/", false, &root), 0);

        for (size_t c = 0; c < N_CHILDREN; c++)
                for (size_t i = 0; i < ARRAY_SIZE(hier); i++, n++) {
                        const struct hierarchy *h = &hier[i];
                        pid_t pid = children[c];
                        _cleanup_free_ char *want = xasprintf("%s%s/%s/emulator", h->mount_point, h->top, domain_dirs[c]);
                        _cleanup_free_ char *lib = libcgroup_dir(pid, h->controller);
                        _cleanup_free_ char *parsed = parser_dir(pid, h->controller), *found = NULL;
                        struct cgroup_place p = { 0 };

                        if (cgroup_place_find(&root, pid, h->controller, &p) == 0)
                                found = xasprintf("%s%s", p.mount_point, p.path);
                        fprintf(stderr, "  %s (%s) of \"%s\": %s\n    libcgroup     %s\n    parsers       %s\n"
                                "    cgroup_place  %s (by %s)\n", h->controller, h->v2 ? "v2" : "v1", domain_dirs[c],
                                streq(lib, want) ? "agree" : "DISAGREE", lib, parsed, found ?: "(error)",
                                p.by_libcgroup ? "libcgroup" : "parsers");
                        /* vmtuned's parsers must be right; libcgroup's
                         * misses are counted, to be seen all at once. */
                        assert_string_equal(parsed, want);
                        wrong_lib += !streq(lib, want);
                        wrong_place += !streq_ptr(found, want);
                        cgroup_place_done(&p);
                }
        kroot_close(&root);
        fprintf(stderr, "  wrong: libcgroup %d of %d, cgroup_place %d of %d\n", wrong_lib, n, wrong_place, n);
        assert_int_equal(wrong_place, 0);
        assert_int_equal(wrong_lib, 0);
}

/* Bind-mount content over a /proc file in this (private) mount namespace. */
static int bind_over(const char *dir, const char *name, const char *content, const char *target)
{
        char src[1024];

        tl_write(dir, name, content);
        snprintf(src, sizeof(src), "%s/%s", dir, name);
        if (mount(src, target, NULL, MS_BIND, NULL) < 0) {
                fprintf(stderr, "bind %s over %s: %s\n", src, target, strerror(errno));
                return -1;
        }
        return 0;
}

/* A cgroup-v2-only host as Debian 12 boots by default: one cgroup2 mount
 * offering every controller, a QEMU under systemd's machine.slice. Runs in
 * a forked child, so the namespace dies with it; it reports on stderr and
 * returns the number of wrong answers (cmocka's assertions would jump back
 * into the parent's test runner in the child). */
static int v2_only_view(const char *dir)
{
        char target[64], *fs = xasprintf("%s/fs", dir);
        char *mounts = xasprintf("cgroup2 %s cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n", fs);
        char *mountinfo = xasprintf("35 24 0:30 / %s rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw\n", fs);
        const char *thread = "/machine.slice/machine-qemu\\x2d1\\x2dvm01.scope/libvirt/emulator";
        char *cg = xasprintf("0::%s\n", thread), *want = xasprintf("%s%s", fs, thread);
        const char *controllers[] = { "cpuset", "memory" };
        int wrong = 0, r;

        tl_write(fs, "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                fprintf(stderr, "private mount namespace: %s\n", strerror(errno));
                return 100;
        }
        snprintf(target, sizeof(target), "/proc/%d/cgroup", (int) children[0]);
        if (bind_over(dir, "cgroup", cg, target) < 0)
                return 100;
        snprintf(target, sizeof(target), "/proc/%d/mounts", (int) getpid());
        if (bind_over(dir, "mounts", mounts, target) < 0)
                return 100;
        snprintf(target, sizeof(target), "/proc/%d/mountinfo", (int) getpid());
        if (bind_over(dir, "mountinfo", mountinfo, target) < 0)
                return 100;

        r = cgroup_init();
        fprintf(stderr, "  v2-only: cgroup_init %d\n", r);
        for (size_t i = 0; i < ARRAY_SIZE(controllers); i++) {
                char *lib = libcgroup_dir(children[0], controllers[i]), *parsed = parser_dir(children[0], controllers[i]);
                char *mount = NULL;

                r = cgroup_get_subsys_mount_point(controllers[i], &mount);
                fprintf(stderr, "  v2-only %s: want %s\n    libcgroup     %s (mount point: %s)\n    parsers       %s\n",
                        controllers[i], want, lib, r == 0 ? mount : cgroup_strerror(r), parsed);
                wrong += !streq(parsed, want) + (r != 0 || !streq(mount, fs)) + !streq(lib, want);
                free(mount);
                free(parsed);
                free(lib);
        }
        return wrong;
}

static void test_v2_only_host_seen_through_private_mount_namespace(void **state)
{
        char *dir = tl_mkdtemp("vmtuned-cg-v2");
        pid_t pid;
        int status;

        fflush(stderr);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(v2_only_view(dir));
        waitpid(pid, &status, 0);
        tl_rm_rf(dir);
        free(dir);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) != 0)
                fail_msg("%d wrong answers on the v2-only view", WEXITSTATUS(status));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hybrid_host_thread_cgroup_as_created),
                cmocka_unit_test(test_v2_only_host_seen_through_private_mount_namespace),
        };
        return cmocka_run_group_tests_name("cgroups of a real process: libcgroup and vmtuned's parsers", tests,
                                           setup, teardown);
}
