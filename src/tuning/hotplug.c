/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Disk and CPU hot-plug (see hotplug.h for why two event sources). */
#include "tuning/hotplug.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <sys/socket.h>
#include <systemd/sd-device.h>

#include "base/kfile.h"
#include "base/log.h"
#include "tuning/rollback.h"
#include "tuning/apply.h"
#include "tuning/plan.h"
#include "base/util.h"

/* The kernel's uevent multicast group; udevd re-broadcasts on group 2. */
#define UEVENT_GROUP_KERNEL 1
/* A burst of uevents (a multipath array coming up) must not overflow. */
#define UEVENT_RCVBUF (4 * 1024 * 1024)

struct hotplug {
        const struct kroot *root;
        struct rollback *rb;
        const struct profile *profile; /* NULL: paused */
        enum hotplug_source source;
        sd_device_monitor *monitor;    /* HOTPLUG_SOURCE_UDEV */
        sd_event_source *io;           /* HOTPLUG_SOURCE_KERNEL */
        int fd;
};

/* --- pure: events ------------------------------------------------------------ */

static enum hotplug_action action_from_string(const char *a)
{
        if (streq(a, "add"))
                return HOTPLUG_ADD;
        if (streq(a, "change"))
                return HOTPLUG_CHANGE;
        if (streq(a, "remove"))
                return HOTPLUG_REMOVE;
        if (streq(a, "online"))
                return HOTPLUG_ONLINE;
        return HOTPLUG_IGNORE;  /* bind, unbind, move, offline */
}

static void copy_field(char *dst, size_t size, const char *src)
{
        snprintf(dst, size, "%s", src);
}

int hotplug_uevent_parse(const char *buf, size_t len, struct hotplug_uevent *ret)
{
        struct hotplug_uevent ev = {};
        const char *devpath = NULL, *slash, *end = buf + len;
        size_t head;

        /* The header is "ACTION@DEVPATH"; udev's datagrams start "libudev". */
        head = strnlen(buf, len);
        if (head == len || !memchr(buf, '@', head))
                return -EINVAL;
        for (const char *p = buf + head + 1; p < end; p += strnlen(p, (size_t) (end - p)) + 1) {
                if (strnlen(p, (size_t) (end - p)) == (size_t) (end - p))
                        return -EINVAL;         /* not NUL-terminated */
                if (startswith(p, "ACTION="))
                        ev.action = action_from_string(p + strlen("ACTION="));
                else if (startswith(p, "DEVPATH="))
                        devpath = p + strlen("DEVPATH=");
                else if (startswith(p, "SUBSYSTEM="))
                        copy_field(ev.subsystem, sizeof(ev.subsystem), p + strlen("SUBSYSTEM="));
                else if (startswith(p, "DEVTYPE="))
                        copy_field(ev.devtype, sizeof(ev.devtype), p + strlen("DEVTYPE="));
        }
        if (!devpath || !*devpath)
                return -EINVAL;
        slash = strrchr(devpath, '/');
        copy_field(ev.sysname, sizeof(ev.sysname), slash ? slash + 1 : devpath);
        if (!ev.sysname[0])
                return -EINVAL;
        *ret = ev;
        return 0;
}

enum hotplug_action hotplug_classify(const struct hotplug_uevent *ev, bool tracked)
{
        if (streq(ev->subsystem, "cpu"))
                return ev->action == HOTPLUG_ONLINE ? HOTPLUG_ONLINE : HOTPLUG_IGNORE;
        if (!streq(ev->subsystem, "block") || !streq(ev->devtype, "disk") || ev->action == HOTPLUG_ONLINE)
                return HOTPLUG_IGNORE;
        if (ev->action == HOTPLUG_CHANGE && tracked)
                return HOTPLUG_IGNORE;
        return ev->action;
}

bool hotplug_tracked(const struct rollback *rb, const char *sysname)
{
        _cleanup_free_ char *prefix = xasprintf("sys/block/%s/", sysname);

        for (size_t i = 0; i < rb->n_entries; i++)
                if (startswith(rb->entries[i].path, prefix))
                        return true;
        return false;
}

/* --- acting ------------------------------------------------------------------ */

/* The kernel forgot the device and its values: so does the journal. */
static int forget_disk(struct hotplug *h, const char *sysname)
{
        _cleanup_free_ char *prefix = xasprintf("sys/block/%s/", sysname);
        unsigned n = 0;
        int r;

        for (size_t i = 0; i < h->rb->n_entries;) {
                if (!startswith(h->rb->entries[i].path, prefix)) {
                        i++;
                        continue;
                }
                /* rollback_forget removes entry i: the next one moves to i. */
                r = rollback_forget(h->rb, h->rb->entries[i].path);
                if (r < 0)
                        return log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                                               "disk %s: cannot update the rollback journal %s: %m", sysname,
                                               h->rb->file);
                n++;
        }
        if (n > 0)
                log_event(LOG_INFO, MSGID_DISK_HOTPLUG,
                          LOG_FIELDS({ "VMTUNED_DISK", sysname }, { "VMTUNED_COUNT", LOG_U64(n) }),
                          "disk %s removed: %u value(s) dropped from the rollback journal (the kernel "
                          "forgot them with the device)", sysname, n);
        return 0;
}

/* A disk that appeared or changed ([disk]), a CPU that came online ([cpu]). */
static int tune(struct hotplug *h, enum hotplug_action action, const char *sysname)
{
        bool cpu = action == HOTPLUG_ONLINE;
        const char *what = cpu ? "" : "disk ", *section = cpu ? "cpu" : "disk";
        struct target_list targets = {};
        struct apply_stats st;
        int r;

        r = cpu ? settings_plan_cpu(h->root, h->profile, sysname, &targets)
                : settings_plan_device(h->root, h->profile, sysname, &targets);
        if (r < 0) {
                (void) log_debug_errno(r, "%s%s: not a %s under %s/sys (%m), ignored", what, sysname,
                                       cpu ? "CPU" : "whole disk", h->root->path);
                return 0;
        }
        settings_log_notes(&targets);
        if (targets.n == 0) {
                target_list_free(&targets);
                log_debug("%s%s: the profile's [%s] settings do not reach it", what, sysname, section);
                return 0;
        }
        r = settings_apply(h->root, h->rb, &targets, &st);
        target_list_free(&targets);
        if (r < 0)
                return log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                                       "%s%s: cannot update the rollback journal %s: %m; "
                                       "its [%s] settings not applied", what, sysname, h->rb->file, section);
        /* A "change" of a disk already as the profile wants it is no news. */
        log_event(st.applied > 0 || action != HOTPLUG_CHANGE ? LOG_NOTICE : LOG_DEBUG,
                  cpu ? MSGID_SETTING_APPLIED : MSGID_DISK_HOTPLUG,
                  LOG_FIELDS({ cpu ? "VMTUNED_CPU" : "VMTUNED_DISK", sysname },
                             { "VMTUNED_APPLIED", LOG_U64(st.applied) },
                             { "VMTUNED_UNCHANGED", LOG_U64(st.unchanged) },
                             { "VMTUNED_SKIPPED", LOG_U64(st.skipped) }),
                  "%s%s %s: %u setting(s) applied, %u already set, %u skipped", what, sysname,
                  action == HOTPLUG_ADD ? "appeared" : cpu ? "came online" : "changed", st.applied, st.unchanged,
                  st.skipped);
        return 0;
}

int hotplug_handle(struct hotplug *h, enum hotplug_action action, const char *sysname)
{
        switch (action) {
        case HOTPLUG_REMOVE:
                return forget_disk(h, sysname);
        case HOTPLUG_ADD:
        case HOTPLUG_CHANGE:
        case HOTPLUG_ONLINE:
                if (!h->profile) {
                        log_debug("%s: settings are rolled back (off), not tuning it", sysname);
                        return 0;
                }
                if (action == HOTPLUG_CHANGE && hotplug_tracked(h->rb, sysname))
                        return 0;
                return tune(h, action, sysname);
        case HOTPLUG_IGNORE:
                break;
        }
        return 0;
}

static void handle_event(struct hotplug *h, const struct hotplug_uevent *ev)
{
        enum hotplug_action a = hotplug_classify(ev, hotplug_tracked(h->rb, ev->sysname));

        if (a != HOTPLUG_IGNORE)
                (void) hotplug_handle(h, a, ev->sysname);
}

/* Events were lost (the socket overflowed): look at every disk as if it
 * had just changed, and every online CPU as if it had just come online,
 * so none that appeared meanwhile stays untuned. */
static void rescan(struct hotplug *h)
{
        struct dirent *de;
        DIR *d;

        if (kfile_opendir(h->root, "sys/block", &d) == 0) {
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.')
                                (void) hotplug_handle(h, HOTPLUG_CHANGE, de->d_name);
                closedir(d);
        }
        if (kfile_opendir(h->root, "sys/devices/system/cpu", &d) == 0) {
                while ((de = readdir(d))) {
                        _cleanup_free_ char *online = xasprintf("sys/devices/system/cpu/%s/online", de->d_name);
                        uint64_t on = 1; /* cpu0 often has no online file: it cannot go offline */

                        if (!startswith(de->d_name, "cpu") || de->d_name[3] < '0' || de->d_name[3] > '9')
                                continue;
                        (void) kfile_read_u64(h->root, online, &on);
                        if (on == 1)
                                (void) hotplug_handle(h, HOTPLUG_ONLINE, de->d_name);
                }
                closedir(d);
        }
}

/* --- sources ----------------------------------------------------------------- */

static int on_udev(sd_device_monitor *m, sd_device *dev, void *userdata)
{
        struct hotplug_uevent ev = {};
        sd_device_action_t action;
        const char *s;

        if (sd_device_get_action(dev, &action) < 0 || sd_device_get_sysname(dev, &s) < 0)
                return 0;
        ev.action = action == SD_DEVICE_ADD ? HOTPLUG_ADD : action == SD_DEVICE_CHANGE ? HOTPLUG_CHANGE
                  : action == SD_DEVICE_REMOVE ? HOTPLUG_REMOVE : action == SD_DEVICE_ONLINE ? HOTPLUG_ONLINE
                  : HOTPLUG_IGNORE;
        copy_field(ev.sysname, sizeof(ev.sysname), s);
        if (sd_device_get_subsystem(dev, &s) >= 0)
                copy_field(ev.subsystem, sizeof(ev.subsystem), s);
        if (sd_device_get_devtype(dev, &s) >= 0)
                copy_field(ev.devtype, sizeof(ev.devtype), s);
        handle_event(userdata, &ev);
        return 0;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct hotplug *h = userdata;
        char buf[8192];

        for (;;) {
                struct sockaddr_nl sender = {};
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
                struct msghdr msg = { .msg_name = &sender, .msg_namelen = sizeof(sender),
                                      .msg_iov = &iov, .msg_iovlen = 1 };
                struct hotplug_uevent ev;
                ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        if (errno == ENOBUFS) {
                                log_event(LOG_WARNING, MSGID_UEVENTS_LOST, NULL,
                                          "uevents were lost (receive buffer full); re-checking every disk and CPU");
                                rescan(h);
                                continue;
                        }
                        (void) log_event_errno(LOG_ERR, errno, MSGID_FEATURE_DISABLED,
                                               LOG_FIELDS({ "VMTUNED_FEATURE", "hotplug" }),
                                               "cannot receive uevents: %m; disks that appear and CPUs that come "
                                               "online will not be tuned");
                        return sd_event_source_set_enabled(s, SD_EVENT_OFF);
                }
                /* Only the kernel itself (port 0) speaks for the kernel. */
                if (sender.nl_pid != 0 || (msg.msg_flags & MSG_TRUNC))
                        continue;
                if (hotplug_uevent_parse(buf, (size_t) n, &ev) == 0)
                        handle_event(h, &ev);
        }
}

static int open_kernel_source(struct hotplug *h, sd_event *event)
{
        struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = UEVENT_GROUP_KERNEL };
        int size = UEVENT_RCVBUF, r;

        h->fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
        if (h->fd < 0)
                return -errno;
        /* FORCE needs CAP_NET_ADMIN; without it the plain limit is still better than the default. */
        if (setsockopt(h->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(h->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (bind(h->fd, (struct sockaddr *) &addr, sizeof(addr)) < 0)
                return -errno;
        r = sd_event_add_io(event, &h->io, h->fd, EPOLLIN, on_uevent, h);
        if (r >= 0)
                (void) sd_event_source_set_description(h->io, "hotplug-uevent");
        return r;
}

static int open_udev_source(struct hotplug *h, sd_event *event)
{
        int r;

        r = sd_device_monitor_new(&h->monitor);
        if (r >= 0)
                r = sd_device_monitor_set_description(h->monitor, "hotplug");
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(h->monitor, "block", "disk");
        if (r >= 0)
                r = sd_device_monitor_filter_add_match_subsystem_devtype(h->monitor, "cpu", NULL);
        if (r >= 0)
                r = sd_device_monitor_attach_event(h->monitor, event);
        if (r >= 0)
                r = sd_device_monitor_start(h->monitor, on_udev, h);
        return r;
}

int hotplug_new(sd_event *event, const struct hotplug_options *o, struct hotplug **ret)
{
        struct hotplug *h = xcalloc(1, sizeof(*h));
        int r = 0;

        *h = (struct hotplug){ .root = o->root, .rb = o->rollback, .source = o->source, .fd = -1 };
        if (h->source == HOTPLUG_SOURCE_AUTO)
                h->source = kfile_exists(o->root, "run/udev/control") ? HOTPLUG_SOURCE_UDEV
                                                                      : HOTPLUG_SOURCE_KERNEL;
        if (h->source == HOTPLUG_SOURCE_UDEV)
                r = open_udev_source(h, event);
        else if (h->source == HOTPLUG_SOURCE_KERNEL)
                r = open_kernel_source(h, event);
        if (r < 0) {
                hotplug_free(h);
                return r;
        }
        *ret = h;
        return 0;
}

void hotplug_set_profile(struct hotplug *h, const struct profile *p)
{
        h->profile = p;
}

enum hotplug_source hotplug_get_source(const struct hotplug *h)
{
        return h->source;
}

void hotplug_free(struct hotplug *h)
{
        if (!h)
                return;
        sd_event_source_disable_unref(h->io);
        sd_device_monitor_unref(h->monitor);
        if (h->fd >= 0)
                close(h->fd);
        free(h);
}
