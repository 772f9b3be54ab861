/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): finding a QEMU process's
 * cgroups on this machine's real cgroup trees, as the domain table does
 * (procparse.c's parsers on proc/PID/cgroup and proc/self/mountinfo). Two
 * child processes are put into cgroups the test creates (below the cgroups
 * the test itself is in, so every limit on those still holds), in two v1
 * hierarchies (cpuset, memory) and in the v2 one (on a hybrid host:
 * /sys/fs/cgroup/unified; on a v2-only host all three are there), named the
 * way libvirt names a domain's thread cgroup without systemd
 * ("qemu-1-vm01.libvirt-qemu/emulator"). The second child's name holds a
 * space: libvirt strips those from its own names, but a cgroup someone else
 * made may carry one. Where each child is is known because the test put it
 * there; the parsers' answer is checked against that. The cgroups are
 * removed and the children killed afterwards, also when an assertion fails.
 *
 * This test also decided against libcgroup (README, "Dependencies"): its
 * version at commit 49df3fd put libcgroup 2.0.2 beside the parsers, and
 * libcgroup answered 2 of the 6 cases right. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/kfile.h"
#include "base/procparse.h"
#include "base/util.h"
#include "testlib.h"

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

static bool in_list(const char *list, const char *word)
{
        size_t n = strlen(word);

        for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                if (strncmp(p, word, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                        return true;
        return false;
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
                if (h->v2 ? streq(line, "0:") : in_list(c1 + 1, h->controller))
                        ret = strdup(streq(c2 + 1, "/") ? "" : c2 + 1);
        }
        free(buf);
        return ret;
}

static int setup(void **state)
{
        char *mountinfo, *controllers, *path, *root = NULL;

        if (geteuid() != 0)
                return -1;
        atexit(remove_cgroups);
        mountinfo = read_file("/proc/self/mountinfo");
        /* The v2 tree and a controller it offers (hugetlb on this kind of
         * hybrid host), asked for by name as vmtuned asks for cpuset. */
        if (procparse_cgroup_mount(mountinfo, "", true, &hier[2].mount_point, &root) < 0) {
                fprintf(stderr, "no cgroup2 mounted\n");
                return -1;
        }
        free(root);
        path = xasprintf("%s/cgroup.controllers", hier[2].mount_point);
        controllers = read_file(path);
        free(path);
        if (sscanf(controllers, "%63s", v2_controller) != 1) {
                fprintf(stderr, "the v2 hierarchy offers no controller\n");
                return -1;
        }
        free(controllers);
        hier[2].controller = v2_controller;
        for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                /* cpuset and memory in v1 hierarchies if mounted there (v1,
                 * hybrid), else in the v2 tree (v2-only). */
                if (!hier[i].v2 &&
                    procparse_cgroup_mount(mountinfo, hier[i].controller, false, &hier[i].mount_point, &root) < 0) {
                        hier[i].v2 = true;
                        hier[i].mount_point = xstrdup(hier[2].mount_point);
                } else if (!hier[i].v2)
                        free(root);
                path = self_path(&hier[i]);
                assert_non_null(path);
                hier[i].top = xasprintf("%s/vmtuned-host-cg.%d", path, (int) getpid());
                free(path);
        }
        free(mountinfo);

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

/* What vmtuned's parsers say, from the kernel's files: the thread's
 * cgroup directory and the domain's ("(error)" if they say nothing). */
static void parser_dirs(pid_t pid, const char *controller, char **ret_thread, char **ret_domain)
{
        _cleanup_free_ char *rel = xasprintf("proc/%d/cgroup", (int) pid), *cg = tl_read("/", rel);
        _cleanup_free_ char *mountinfo = tl_read("/", "proc/self/mountinfo");
        _cleanup_free_ char *path = NULL, *mount = NULL, *root = NULL, *dom = NULL;
        bool v2;

        if (!cg || !mountinfo || procparse_cgroup_path(cg, controller, &path, &v2) < 0 ||
            procparse_cgroup_mount(mountinfo, controller, v2, &mount, &root) < 0) {
                *ret_thread = xstrdup("(error)");
                *ret_domain = xstrdup("(error)");
                return;
        }
        /* Not in a cgroup namespace: the mount's root is "/". */
        assert_string_equal(root, "/");
        dom = procparse_domain_cgroup(path);
        *ret_thread = xasprintf("%s%s", mount, path);
        *ret_domain = xasprintf("%s%s", mount, dom);
}

static void test_thread_and_domain_cgroup_found_where_the_test_put_them(void **state)
{
        for (size_t c = 0; c < N_CHILDREN; c++)
                for (size_t i = 0; i < ARRAY_SIZE(hier); i++) {
                        const struct hierarchy *h = &hier[i];
                        _cleanup_free_ char *dom = xasprintf("%s%s/%s", h->mount_point, h->top, domain_dirs[c]);
                        _cleanup_free_ char *thread = xasprintf("%s/emulator", dom);
                        _cleanup_free_ char *parsed = NULL, *parsed_dom = NULL;

                        parser_dirs(children[c], h->controller, &parsed, &parsed_dom);
                        fprintf(stderr, "  %s (%s): created %s\n    parsers      %s\n    domain's     %s\n",
                                h->controller, h->v2 ? "v2" : "v1", thread, parsed, parsed_dom);
                        assert_string_equal(parsed, thread);
                        assert_string_equal(parsed_dom, dom);
                }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_thread_and_domain_cgroup_found_where_the_test_put_them),
        };
        return cmocka_run_group_tests_name("cgroups of a real process on this host's trees", tests, setup, teardown);
}
