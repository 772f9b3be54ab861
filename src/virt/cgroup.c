/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A process's cgroup for one controller: libcgroup on the real host, the
 * procparse.c parsers under a fixture root (libcgroup reads the real
 * /proc/self/mountinfo and cannot be pointed at one). */
#include "virt/cgroup.h"

#include <errno.h>
#include <libcgroup.h>
#include <stdlib.h>

#include "base/log.h"
#include "base/procparse.h"
#include "base/util.h"

void cgroup_place_done(struct cgroup_place *p)
{
        free(p->path);
        free(p->mount_point);
        free(p->mount_root);
        *p = (struct cgroup_place) { 0 };
}

static int find_parsed(const struct kroot *root, pid_t pid, const char *controller, struct cgroup_place *ret)
{
        _cleanup_free_ char *rel = xasprintf("proc/%d/cgroup", (int) pid);
        _cleanup_free_ char *proc_cgroup = NULL, *mountinfo = NULL;
        struct cgroup_place p = { 0 };
        int r;

        r = kfile_read_all(root, rel, &proc_cgroup);
        if (r < 0)
                return r;
        r = kfile_read_all(root, "proc/self/mountinfo", &mountinfo);
        if (r < 0)
                return r;
        r = procparse_cgroup_path(proc_cgroup, controller, &p.path, &p.v2);
        if (r < 0)
                return r;
        r = procparse_cgroup_mount(mountinfo, controller, p.v2, &p.mount_point, &p.mount_root);
        if (r < 0) {
                cgroup_place_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* libcgroup caches the mount table once, process-wide, with no way to
 * refresh or free it; its own state is global, so this flag is too. */
static int libcgroup_ready(void)
{
        static int init_r = 1;

        if (init_r > 0)
                init_r = cgroup_init();
        return init_r;
}

static int find_libcgroup(pid_t pid, const char *controller, struct cgroup_place *ret)
{
        struct cgroup_place p = { .by_libcgroup = true };
        int r;

        r = libcgroup_ready();
        if (r == 0)
                r = cgroup_get_current_controller_path(pid, controller, &p.path);
        if (r == 0)
                r = cgroup_get_subsys_mount_point(controller, &p.mount_point);
        if (r != 0) {
                log_debug("libcgroup: %s of pid %d: %s (%d)", controller, (int) pid, cgroup_strerror(r), r);
                cgroup_place_done(&p);
                return r == ECGROUPNOTEXIST ? -ENOENT : -EIO;
        }
        /* libcgroup knows neither the mount's root nor the version of
         * the hierarchy (cgroup_get_controller_version is not declared
         * in 2.0's headers). */
        p.mount_root = xstrdup("/");
        *ret = p;
        return 0;
}

int cgroup_place_find(const struct kroot *root, pid_t pid, const char *controller, struct cgroup_place *ret)
{
        if (streq(root->path, "/") && find_libcgroup(pid, controller, ret) == 0)
                return 0;
        return find_parsed(root, pid, controller, ret);
}
