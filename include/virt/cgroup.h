/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where a process's cgroup for one controller is: its path in the
 * hierarchy and where that hierarchy is mounted. On the real host (root
 * prefix "/") libcgroup answers; under a fixture root the parsers of
 * procparse.c read the root's proc/PID/cgroup and proc/self/mountinfo. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/kfile.h"

struct cgroup_place {
        char *path;        /* in the hierarchy: "/machine.slice/…/libvirt/emulator" */
        char *mount_point; /* "/sys/fs/cgroup/cpuset", or "/sys/fs/cgroup" (v2) */
        char *mount_root;  /* the mount's root: "/" unless in a cgroup namespace */
        bool v2;
        bool by_libcgroup; /* answered by libcgroup, not by the parsers */
};

/* -ENOENT: no such process, or controller in no mounted hierarchy. */
int cgroup_place_find(const struct kroot *root, pid_t pid, const char *controller, struct cgroup_place *ret);
void cgroup_place_done(struct cgroup_place *p);
