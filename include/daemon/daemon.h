/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon context: the one place that holds state, passed explicitly
 * (STYLE 8). Modules are set up in order and torn down in reverse. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "args.h"
#include "config/conf.h"
#include "daemon/control.h"
#include "base/kfile.h"
#include "tuning/settings.h"

/* A configuration and the profile it selects, resolved and validated
 * whole before it replaces the running one. */
struct tuning {
        struct vmtuned_conf *conf;
        struct profile *profile;
};

struct virt;
struct control;
struct balancer;
struct ksm;
struct hotplug;

struct daemon {
        const struct args *args;
        sd_event *event;
        struct virt *virt;          /* libvirt domains; NULL until started */
        bool libvirt_asked;         /* virt_new ran: its first connection attempt is over */
        struct control *control;    /* the vmtunectl socket */
        struct balancer *balancer;  /* NULL when [balancer] enabled=no */
        struct ksm *ksm;            /* [ksm] mode=auto's loop; NULL if it could not start */
        struct hotplug *hotplug;    /* [disk] rules for disks that appear later */
        struct kroot root;
        struct tuning tuning;       /* the running configuration */
        struct rollback *rollback;
        struct apply_stats stats;   /* of the last apply */
        uint64_t applied_since_usec; /* CLOCK_REALTIME of the last apply */
        bool applied;               /* settings are in place (not "off") */
};

/* Load config + profile as the command line says. On error fills err,
 * returns -errno, and *ret is untouched. */
int tuning_load(const struct args *args, const char *profile_name, struct tuning *ret, struct conf_error *err);
void tuning_clear(struct tuning *t);

/* Roll back the running profile and apply t instead; on failure the old
 * profile is applied again. Takes ownership of t on success. */
int daemon_switch(struct daemon *d, struct tuning *t);

/* Roll back every setting and stay running ("vmtunectl off"). */
int daemon_off(struct daemon *d);

/* The control commands (src/commands.c): fills the daemon's table. */
size_t commands_table(struct daemon *d, const struct control_command **ret);

/* Re-read the configuration (SIGHUP, vmtunectl reload): a bad file keeps
 * the running configuration. */
int daemon_reload(struct daemon *d);
