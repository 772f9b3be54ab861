/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon (src/daemon/daemon.c): its context, the one place that holds
 * state, passed explicitly (STYLE 8); modules are set up in order and torn
 * down in reverse. What the control commands (commands.h) may ask of it. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "args.h"
#include "base/kfile.h"
#include "daemon/state.h"
#include "tuning/apply.h"

struct balancer;
struct conf_error;
struct control;
struct control_command;
struct daemon;
struct hotplug;
struct ksm;
struct metrics;
struct virt;

/* A configuration and the profile it selects, resolved and validated
 * whole before it replaces the running one. */
struct tuning {
        struct vmtuned_conf *conf;
        struct profile *profile;
        enum profile_source source; /* who chose profile */
        /* The profile without a vmtunectl choice (--profile, else the
         * configuration's profile=), and who chose that; points into conf
         * or the args. */
        const char *base;
        enum profile_source base_source;
        /* Set by tuning_load when it looked at the persisted choice: what
         * to log about it (NULL: nothing), at which level, and whether the
         * file is stale (the configuration changed since) and goes. The
         * caller that runs the result logs and removes, so a load only
         * looked at (vmtunectl reload's check) does neither. */
        char *state_note;
        int state_note_level;
        bool state_stale;
};

/* Fills the control commands' table, every handler's userdata d: main()
 * passes commands_table (commands.h), so that the daemon serves the
 * commands without depending on them. */
typedef size_t (*daemon_commands_fn)(struct daemon *d, const struct control_command **ret);

struct daemon {
        const struct args *args;
        daemon_commands_fn commands;
        sd_event *event;
        struct virt *virt;          /* libvirt domains; NULL until started */
        bool libvirt_asked;         /* virt_new ran: its first connection attempt is over */
        struct control *control;    /* the vmtunectl socket */
        struct balancer *balancer;  /* NULL when [balancer] enabled=no */
        struct ksm *ksm;            /* [ksm] mode=auto's loop; NULL if it could not start */
        struct hotplug *hotplug;    /* [disk] rules for disks that appear later */
        struct metrics *metrics;    /* metrics_file= and the start time; NULL until started */
        struct kroot root;
        struct tuning tuning;       /* the running configuration */
        struct rollback *rollback;
        sd_event_source *restore_retry; /* while journal entries wait (huge pages in use) */
        struct apply_stats stats;   /* of the last apply */
        uint64_t applied_since_usec; /* CLOCK_REALTIME of the last apply */
        bool applied;               /* settings are in place (not "off") */
        bool stopped;               /* the final restore ran (stop_tuning) */
};

/* Load config + profile: profile_name, else the choice persisted by
 * `vmtunectl profile` while it still applies (state.h), else --profile,
 * else the configuration's profile=. On error fills err, returns -errno,
 * and *ret is untouched. */
int tuning_load(const struct args *args, const char *profile_name, struct tuning *ret, struct conf_error *err);

/* The same without the persisted choice (vmtunectl profile --reset). */
int tuning_load_base(const struct args *args, struct tuning *ret, struct conf_error *err);

/* Log tuning_load's note about the persisted choice, and remove a stale
 * one (not in a dry run). */
void tuning_settle_state(const struct args *args, struct tuning *t);
void tuning_clear(struct tuning *t);

/* Roll back the running profile and apply t instead; on failure the old
 * profile is applied again. Takes ownership of t on success. */
int daemon_switch(struct daemon *d, struct tuning *t);

/* Roll back every setting and stay running ("vmtunectl off"). */
int daemon_off(struct daemon *d);

/* Re-read the configuration (SIGHUP, vmtunectl reload): a bad file keeps
 * the running configuration. */
int daemon_reload(struct daemon *d);

/* Run the daemon until it is told to stop; returns the exit code (args.h). */
int daemon_run(const struct args *args, daemon_commands_fn commands);
