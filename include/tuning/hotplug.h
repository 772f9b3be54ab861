/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hot-plug: disks that appear while vmtuned runs get the running
 * profile's [disk] settings (planned by settings_plan_device, so the
 * matching rules are the engine's own), written through the settings
 * engine and journaled; disks that go away are dropped from the journal,
 * since the kernel forgot their values with them. A CPU that comes online
 * gets the profile's [cpu] values the same way (settings_plan_cpu): the
 * kernel brings its idle states back enabled and its new cpufreq policy
 * with the default governor. A CPU going offline needs nothing: the files
 * that vanish with it are "gone" at restore (rollback.h).
 *
 * Where the events come from: with systemd-udevd running (run/udev/control
 * under the root prefix), sd-device's monitor on the udev netlink group,
 * so vmtuned acts after udev's rules have run and does not race a rule
 * that sets a scheduler itself. Without udevd, that group is silent (udevd
 * is what re-broadcasts there), so vmtuned listens to the kernel's own
 * uevents (NETLINK_KOBJECT_UEVENT, group 1) instead; sd-device offers no
 * public way to listen to the kernel group, hence a plain netlink socket. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct kroot;
struct profile;
struct rollback;

enum hotplug_source {
        HOTPLUG_SOURCE_AUTO,    /* udev if udevd runs, else the kernel */
        HOTPLUG_SOURCE_UDEV,    /* sd_device_monitor (udev's group) */
        HOTPLUG_SOURCE_KERNEL,  /* kernel uevents */
        HOTPLUG_SOURCE_NONE,    /* nothing: tests call hotplug_handle themselves */
};

enum hotplug_action {
        HOTPLUG_IGNORE,
        HOTPLUG_ADD,            /* apply the profile's [disk] rules to it */
        HOTPLUG_CHANGE,         /* the same, if vmtuned set nothing on it yet */
        HOTPLUG_REMOVE,         /* forget its journal entries */
        HOTPLUG_ONLINE,         /* a CPU came online: apply the profile's [cpu] values to it */
};

/* One block or cpu uevent, reduced to what hot-plug needs. */
struct hotplug_uevent {
        enum hotplug_action action;
        char subsystem[32];
        char devtype[32];       /* "disk", "partition" */
        char sysname[128];      /* the sys/block or cpu name: last component of DEVPATH */
};

/* Pure: parse a kernel uevent datagram ("add@/devices/...\0ACTION=add\0
 * DEVPATH=...\0SUBSYSTEM=block\0..."). -EINVAL if it is not one (udev's
 * "libudev" datagrams, garbage). Unknown actions parse as HOTPLUG_IGNORE. */
int hotplug_uevent_parse(const char *buf, size_t len, struct hotplug_uevent *ret);

/* Pure: what an event means. Only whole disks of the block subsystem
 * count (partitions have no queue of their own); "change" stands for a
 * late "add" (a loop device attached, a dm table loaded) and only for a
 * disk vmtuned has set nothing on yet (tracked: it has journal entries),
 * so a resize does not undo the administrator's own change. Of the cpu
 * subsystem only "online" counts. */
enum hotplug_action hotplug_classify(const struct hotplug_uevent *ev, bool tracked);

struct hotplug_options {
        const struct kroot *root;
        struct rollback *rollback;  /* the daemon's journal */
        enum hotplug_source source;
};

struct hotplug;

/* Start watching on event (may be NULL with HOTPLUG_SOURCE_NONE). Paused
 * until hotplug_set_profile gives it a profile. */
int hotplug_new(sd_event *event, const struct hotplug_options *o, struct hotplug **ret);
/* The running profile (after settings_apply), or NULL to pause: while the
 * settings are rolled back (vmtunectl off, during a switch) no new disk
 * gets any. The profile must stay valid until the next call. */
void hotplug_set_profile(struct hotplug *h, const struct profile *p);
/* Which source it listens to (AUTO resolved). */
enum hotplug_source hotplug_get_source(const struct hotplug *h);

/* Act on one event for the whole disk sysname (or, HOTPLUG_ONLINE, the
 * CPU sysname "cpuN"): plan, apply, log with MSGID_DISK_HOTPLUG (a disk)
 * or MSGID_SETTING_APPLIED (a CPU); or forget. Returns -errno only when
 * the journal could not be written (logged). */
int hotplug_handle(struct hotplug *h, enum hotplug_action action, const char *sysname);

/* Does the journal hold anything of sys/block/sysname? */
bool hotplug_tracked(const struct rollback *rb, const char *sysname);

void hotplug_free(struct hotplug *h);
