/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket, daemon side: RUNTIME_DIR/vmtuned.sock on the sd-event
 * loop, one request per connection, answered by a handler from the daemon's
 * command table (wire format in ctlproto.h).
 *
 * Who may talk to it: root (and the daemon's own uid, the same thing for
 * the real daemon) may run every command. When a control group is
 * configured, the socket is root:GROUP 0660 and a peer whose primary or
 * supplementary groups (SO_PEERGROUPS, taken by the kernel at connect time)
 * include it may run the commands marked read_only; every other request is
 * answered "permission denied" (vmtunectl exit code 4). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define CONTROL_MAX_CLIENTS 16
/* Slots only root (and the daemon's uid) may fill: a member of the control
 * group holding every other slot open cannot make root wait. */
#define CONTROL_ROOT_RESERVE 4
/* Connections one other uid may hold at once, so one member cannot take
 * the group's whole share either. */
#define CONTROL_MAX_CLIENTS_PER_UID 4
#define CONTROL_TIMEOUT_USEC (5 * UINT64_C(1000000))

/* Run one command: argv[0] is the command name as registered, the rest its
 * arguments (multi-word commands like "profile show NAME" parse argv
 * themselves). Write the answer, text or JSON as json says, to out. Return
 * a vmtunectl exit code: 0 ok, 1 failure or drift, 2 bad arguments; a
 * negative errno is logged as a bug and sent as 1. A handler must not free
 * the control it was called from. */
typedef int (*control_handler)(void *userdata, int argc, char **argv, bool json, FILE *out);

struct control_command {
        const char *name;
        const char *usage;       /* e.g. "profile [list | show NAME | NAME]" */
        bool read_only;          /* changes nothing: allowed to the control group */
        control_handler handler;
        void *userdata;
        /* NULL, or for a command that is not read_only: do these
         * arguments only read? ("profile list" does, "profile NAME" does not.) */
        bool (*read_only_args)(int argc, char *const *argv);
};

struct control;

/* Create the socket in runtime_dir (created if missing; a stale socket is
 * replaced, a live one is -EADDRINUSE) and serve it on e. allowed_gid is the
 * control group, or (gid_t)-1 for root only. The table is copied; the
 * userdata it points to must outlive the control. */
int control_new(sd_event *e, const char *runtime_dir, gid_t allowed_gid,
                const struct control_command *cmds, size_t n_cmds, struct control **ret);

/* The same with a per-connection timeout other than CONTROL_TIMEOUT_USEC:
 * for tests, which would rather not wait 5 s for a silent client. */
int control_new_with_timeout(sd_event *e, const char *runtime_dir, gid_t allowed_gid,
                             const struct control_command *cmds, size_t n_cmds,
                             uint64_t timeout_usec, struct control **ret);

/* Close every connection, close and unlink the socket. NULL is fine. */
void control_free(struct control *c);

/* Connections open right now (for tests and "status"). */
size_t control_n_connections(const struct control *c);
