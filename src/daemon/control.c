/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket, daemon side (see include/control.h).
 *
 * A connection lives through: read one request (at most CTLPROTO_REQUEST_MAX
 * bytes) → check who asks and for what → run the handler into a memstream →
 * write the response → close. Every step is non-blocking on the daemon's
 * sd-event loop, and a timer per connection closes it if a client stalls in
 * either direction. At CONTROL_MAX_CLIENTS open connections the listener is
 * switched off, so further clients wait in the kernel's backlog instead of
 * costing us memory. Peers other than root share all but
 * CONTROL_ROOT_RESERVE of the slots, at most CONTROL_MAX_CLIENTS_PER_UID
 * each; one beyond its share is closed at accept, so idle connections of
 * the control group never make root wait in the backlog. */
#include "daemon/control.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "daemon/ctlproto.h"
#include "base/json.h"
#include "base/log.h"
#include "base/util.h"

/* After EMFILE/ENFILE on accept, stop listening this long rather than spin
 * on a listener that stays readable. */
#define ACCEPT_PAUSE_USEC (1 * UINT64_C(1000000))
#define LISTEN_BACKLOG 32
/* At most one "closed at accept" line this often: a client looping on
 * connect must not flood the journal. */
#define REFUSED_LOG_INTERVAL_USEC (10 * UINT64_C(1000000))

struct conn {
        struct control *ctl;
        struct conn *prev, *next;
        int fd;
        sd_event_source *io;
        sd_event_source *timer;
        struct ucred peer;
        bool privileged;         /* root or our own uid: every command */
        bool member;             /* peer in the control group: read-only commands */
        uint8_t in[CTLPROTO_REQUEST_MAX];
        size_t in_len;
        uint8_t *out;            /* the encoded response, once there is one */
        size_t out_len, out_sent;
};

struct control {
        sd_event *event;
        char *path;
        int fd;
        sd_event_source *listen;
        sd_event_source *accept_pause;
        gid_t allowed_gid;
        struct control_command *cmds;
        size_t n_cmds;
        uint64_t timeout_usec;
        struct conn *conns;
        size_t n_conns;
        uint64_t refused_logged_usec;  /* CLOCK_MONOTONIC of the last such line */
        unsigned refused_unlogged;     /* closed at accept since then */
};

static void listener_update(struct control *c)
{
        bool on = c->n_conns < CONTROL_MAX_CLIENTS && !c->accept_pause;

        (void) sd_event_source_set_enabled(c->listen, on ? SD_EVENT_ON : SD_EVENT_OFF);
}

static void conn_free(struct conn *conn)
{
        struct control *c = conn->ctl;

        if (conn->prev)
                conn->prev->next = conn->next;
        else
                c->conns = conn->next;
        if (conn->next)
                conn->next->prev = conn->prev;
        c->n_conns--;

        /* Safe from the connection's own callbacks: sd-event defers freeing
         * a source that is being dispatched. */
        sd_event_source_disable_unref(conn->io);
        sd_event_source_disable_unref(conn->timer);
        if (conn->fd >= 0)
                close(conn->fd);
        free(conn->out);
        free(conn);
        listener_update(c);
}

/* Queue the response and switch the connection from reading to writing.
 * Returns -errno if the connection should be dropped instead. */
static int conn_respond(struct conn *conn, enum ctlproto_status status, int exit_code,
                        const char *body, size_t body_len)
{
        void *buf;
        size_t len;
        int r;

        r = ctlproto_response_encode(status, exit_code, body, body_len, &buf, &len);
        if (r == -EMSGSIZE) {
                static const char msg[] = "vmtuned: the answer is too large to send\n";
                r = ctlproto_response_encode(CTLPROTO_STATUS_ERROR, CTL_EXIT_FAILURE,
                                             msg, sizeof(msg) - 1, &buf, &len);
        }
        if (r < 0)
                return r;
        conn->out = buf;
        conn->out_len = len;
        conn->out_sent = 0;
        /* A slow handler must not eat the client's time to read the answer:
         * the timeout starts again for the writing half. */
        r = sd_event_source_set_time_relative(conn->timer, conn->ctl->timeout_usec);
        if (r < 0)
                return r;
        return sd_event_source_set_io_events(conn->io, EPOLLOUT);
}

static int conn_refuse(struct conn *conn, int exit_code, const char *message)
{
        return conn_respond(conn, CTLPROTO_STATUS_ERROR, exit_code, message, strlen(message));
}

static const struct control_command *command_find(const struct control *c, const char *name)
{
        for (size_t i = 0; i < c->n_cmds; i++)
                if (streq(c->cmds[i].name, name))
                        return &c->cmds[i];
        return NULL;
}

static int conn_refuse_unknown(struct conn *conn, const char *name)
{
        const struct control *c = conn->ctl;
        _cleanup_free_ char *body = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&body, &size);
        if (!f)
                return conn_refuse(conn, CTL_EXIT_USAGE, "unknown command\n");
        fprintf(f, "unknown command '%s'; commands:\n", name);
        for (size_t i = 0; i < c->n_cmds; i++)
                fprintf(f, "  %s\n", c->cmds[i].usage ? c->cmds[i].usage : c->cmds[i].name);
        if (fclose(f) != 0)
                return conn_refuse(conn, CTL_EXIT_USAGE, "unknown command\n");
        return conn_respond(conn, CTLPROTO_STATUS_ERROR, CTL_EXIT_USAGE, body, size);
}

static int conn_run(struct conn *conn, const struct control_command *cmd, const struct ctlproto_request *req)
{
        _cleanup_free_ char *body = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        f = open_memstream(&body, &size);
        if (!f)
                return conn_refuse(conn, CTL_EXIT_FAILURE, "vmtuned: out of memory\n");
        r = cmd->handler(cmd->userdata, req->argc, req->argv, req->json, f);
        if (r < 0) {
                /* A handler bug, not a user error: say so on both ends. */
                (void) log_event_errno(LOG_ERR, r, MSGID_CONTROL_ERROR, NULL, "control: '%s' failed: %m", cmd->name);
                if (req->json) {
                        /* Whatever half answer it wrote goes: one JSON object. */
                        _cleanup_free_ char *msg = xasprintf("vmtuned: '%s' failed: %s", cmd->name, strerror(-r));

                        (void) fseeko(f, 0, SEEK_SET);
                        json_print_error(f, msg);
                } else
                        fprintf(f, "vmtuned: '%s' failed: %s\n", cmd->name, strerror(-r));
                r = CTL_EXIT_FAILURE;
        } else if (r > 255) {
                r = CTL_EXIT_FAILURE;
        }
        if (fclose(f) != 0)
                return conn_refuse(conn, CTL_EXIT_FAILURE, "vmtuned: out of memory\n");
        return conn_respond(conn, CTLPROTO_STATUS_REPLY, r, body, size);
}

/* Does this request change nothing, so the control group may make it? */
static bool request_read_only(const struct control_command *cmd, const struct ctlproto_request *req)
{
        if (cmd->read_only)
                return true;
        return cmd->read_only_args && cmd->read_only_args(req->argc, req->argv);
}

static int conn_dispatch(struct conn *conn, const struct ctlproto_request *req)
{
        const struct control_command *cmd;
        _cleanup_free_ char *msg = NULL;
        bool read_only;

        if (!conn->privileged && !conn->member) {
                log_notice("control: refused uid %u (pid %d): not root and not in the control group",
                           (unsigned) conn->peer.uid, (int) conn->peer.pid);
                return conn_refuse(conn, CTL_EXIT_PERMISSION, "permission denied: vmtunectl must run as root\n");
        }

        cmd = command_find(conn->ctl, req->argv[0]);
        if (!cmd)
                return conn_refuse_unknown(conn, req->argv[0]);

        read_only = request_read_only(cmd, req);
        if (!conn->privileged && !read_only) {
                log_notice("control: refused '%s' to uid %u (pid %d): only root may change state",
                           cmd->name, (unsigned) conn->peer.uid, (int) conn->peer.pid);
                msg = xasprintf("permission denied: '%s' needs root; the control group may only "
                                "run read-only commands\n", cmd->name);
                return conn_refuse(conn, CTL_EXIT_PERMISSION, msg);
        }

        if (!read_only)
                log_info("control: '%s' requested by uid %u (pid %d)",
                         cmd->name, (unsigned) conn->peer.uid, (int) conn->peer.pid);
        return conn_run(conn, cmd, req);
}

/* The request so far is complete, incomplete or bad: act on it. */
static int conn_process_input(struct conn *conn)
{
        struct ctlproto_request req;
        _cleanup_free_ char *msg = NULL;
        size_t used;
        int r;

        r = ctlproto_request_parse(conn->in, conn->in_len, &req, &used);
        if (r == 0) {
                /* Cannot happen (the header check caps the size), but a full
                 * buffer that parses as incomplete must not poll forever. */
                if (conn->in_len == sizeof(conn->in))
                        return conn_refuse(conn, CTL_EXIT_USAGE, "vmtuned: request too large\n");
                return 0;
        }
        if (r > 0) {
                r = conn_dispatch(conn, &req);
                ctlproto_request_done(&req);
                return r;
        }
        if (r == -EMSGSIZE)
                msg = xasprintf("vmtuned: request too large (limit %u bytes)\n", CTLPROTO_REQUEST_MAX);
        else if (r == -EPROTONOSUPPORT)
                msg = xasprintf("protocol version mismatch: vmtuned speaks control protocol %d, "
                                "the client %d\n", CTLPROTO_VERSION, ctlproto_peek_version(conn->in, conn->in_len));
        else
                msg = xstrdup("vmtuned: malformed request\n");
        (void) log_debug_errno(r, "control: bad request from pid %d: %m", (int) conn->peer.pid);
        return conn_refuse(conn, CTL_EXIT_USAGE, msg);
}

/* Returns 1 when the connection is done, 0 to keep it, -errno on error. */
static int conn_read(struct conn *conn)
{
        ssize_t n;

        n = recv(conn->fd, conn->in + conn->in_len, sizeof(conn->in) - conn->in_len, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n < 0)
                return -errno;
        if (n == 0) {
                log_debug("control: pid %d went away before sending a whole request", (int) conn->peer.pid);
                return 1;
        }
        conn->in_len += (size_t) n;
        return conn_process_input(conn);
}

static int conn_write(struct conn *conn)
{
        ssize_t n;

        n = send(conn->fd, conn->out + conn->out_sent, conn->out_len - conn->out_sent,
                 MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n < 0)
                return -errno;
        conn->out_sent += (size_t) n;
        return conn->out_sent == conn->out_len;
}

static int on_conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct conn *conn = userdata;
        int r;

        r = conn->out ? conn_write(conn) : conn_read(conn);
        if (r < 0)
                (void) log_debug_errno(r, "control: dropping the connection of pid %d: %m", (int) conn->peer.pid);
        /* The only place, with the timeout, that ends a connection: nothing
         * below here touches conn after it is freed. */
        if (r != 0)
                conn_free(conn);
        return 0;
}

static int on_conn_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct conn *conn = userdata;

        log_debug("control: pid %d took too long, dropping the connection", (int) conn->peer.pid);
        conn_free(conn);
        return 0;
}

/* Is gid among the peer's groups? SO_PEERGROUPS gives the supplementary
 * groups as the kernel saw them at connect(), so there is no race with a
 * peer that exits and has its pid reused, as reading /proc/PID/status has. */
static bool peer_in_group(int fd, const struct ucred *peer, gid_t gid)
{
        _cleanup_free_ gid_t *groups = NULL;
        socklen_t len = 64 * sizeof(gid_t);

        if (peer->gid == gid)
                return true;
        for (int attempt = 0; attempt < 2; attempt++) {
                free(groups);
                groups = xcalloc(1, len);
                if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
                        break;
                if (errno != ERANGE || attempt == 1) {
                        log_debug("control: cannot read the peer's groups, checking the primary group only: %m");
                        return false;
                }
        }
        for (size_t i = 0; i < len / sizeof(gid_t); i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

/* May one more connection of this unprivileged uid be served? NULL, or
 * why not. Root's reserve first: a group with many members cannot fill it
 * by each staying under the per-uid share. */
static const char *admit_unprivileged(const struct control *c, uid_t uid)
{
        size_t unprivileged = 0, same_uid = 0;

        for (const struct conn *o = c->conns; o; o = o->next) {
                unprivileged += !o->privileged;
                same_uid += !o->privileged && o->peer.uid == uid;
        }
        if (unprivileged >= CONTROL_MAX_CLIENTS - CONTROL_ROOT_RESERVE)
                return "every connection open to users other than root is taken";
        if (same_uid >= CONTROL_MAX_CLIENTS_PER_UID)
                return "this uid holds as many connections as one uid may";
        return NULL;
}

/* Say why before closing: the answer is small and the socket's buffer
 * empty, so a non-blocking send takes it whole or the client is gone. */
static void refuse_at_accept(int fd, const char *why)
{
        _cleanup_free_ char *msg = xasprintf("vmtuned is busy: %s; try again\n", why);
        _cleanup_free_ void *buf = NULL;
        size_t len;

        if (ctlproto_response_encode(CTLPROTO_STATUS_ERROR, CTL_EXIT_FAILURE, msg, strlen(msg), &buf, &len) == 0)
                (void) send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        close(fd);
}

/* The line for a connection closed at accept, at most one per
 * REFUSED_LOG_INTERVAL_USEC with the count of those not logged. */
static void log_refused(struct control *c, const struct ucred *peer, const char *why)
{
        uint64_t now = 0;

        (void) sd_event_now(c->event, CLOCK_MONOTONIC, &now);
        if (c->refused_logged_usec != 0 && now - c->refused_logged_usec < REFUSED_LOG_INTERVAL_USEC) {
                c->refused_unlogged++;
                return;
        }
        if (c->refused_unlogged > 0)
                log_notice("control: closed the connection of uid %u (pid %d) at once: %s "
                           "(and %u more since the last such line)",
                           (unsigned) peer->uid, (int) peer->pid, why, c->refused_unlogged);
        else
                log_notice("control: closed the connection of uid %u (pid %d) at once: %s",
                           (unsigned) peer->uid, (int) peer->pid, why);
        c->refused_logged_usec = now ? now : 1;
        c->refused_unlogged = 0;
}

/* Serve fd, or close it at once if its peer is beyond its share (returns
 * 0 then too). -errno when it cannot be served; the caller closes fd. */
static int conn_new(struct control *c, int fd)
{
        struct conn *conn;
        socklen_t len = sizeof(struct ucred);
        struct ucred peer;
        const char *refused;
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0)
                return -errno;
        conn = xcalloc(1, sizeof(*conn));
        conn->ctl = c;
        conn->fd = fd;
        conn->peer = peer;
        /* Our own uid could ptrace us anyway; allowing it costs nothing and
         * lets an unprivileged test or --dry-run daemon be driven. */
        conn->privileged = conn->peer.uid == 0 || conn->peer.uid == geteuid();
        refused = conn->privileged ? NULL : admit_unprivileged(c, conn->peer.uid);
        if (refused) {
                log_refused(c, &conn->peer, refused);
                free(conn);
                refuse_at_accept(fd, refused);
                return 0;
        }
        conn->member = c->allowed_gid != (gid_t) -1 && peer_in_group(fd, &conn->peer, c->allowed_gid);

        conn->next = c->conns;
        if (c->conns)
                c->conns->prev = conn;
        c->conns = conn;
        c->n_conns++;

        r = sd_event_add_io(c->event, &conn->io, fd, EPOLLIN, on_conn_io, conn);
        if (r >= 0)
                r = sd_event_add_time_relative(c->event, &conn->timer, CLOCK_MONOTONIC, c->timeout_usec,
                                               c->timeout_usec / 10, on_conn_timeout, conn);
        if (r < 0) {
                conn->fd = -1; /* the caller closes it */
                conn_free(conn);
                return r;
        }
        listener_update(c);
        return 0;
}

static int on_accept_resume(sd_event_source *s, uint64_t usec, void *userdata)
{
        struct control *c = userdata;

        c->accept_pause = sd_event_source_disable_unref(c->accept_pause);
        listener_update(c);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        struct control *c = userdata;
        int cfd, r;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                        return 0;
                (void) log_event_errno(LOG_WARNING, errno, MSGID_CONTROL_ERROR, NULL,
                                       "control: accept failed: %m; not accepting for a second");
                if (sd_event_add_time_relative(c->event, &c->accept_pause, CLOCK_MONOTONIC,
                                               ACCEPT_PAUSE_USEC, 0, on_accept_resume, c) >= 0)
                        listener_update(c);
                return 0;
        }
        r = conn_new(c, cfd);
        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_CONTROL_ERROR, NULL,
                                       "control: cannot serve a connection: %m");
                close(cfd);
        }
        /* Never fail: a failing callback would switch the listener off for good. */
        return 0;
}

/* Make way for our socket: nothing there, or a stale socket of a dead
 * vmtuned (nobody accepts on it), which is removed. A live socket means a
 * second vmtuned on the same runtime directory; anything else is not ours. */
static int socket_clear_stale(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISSOCK(st.st_mode))
                return -EEXIST;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0 || errno == EAGAIN)
                return -EADDRINUSE;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

static int socket_open(const char *path, gid_t gid, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        mode_t old_umask;
        int r;

        r = socket_clear_stale(path);
        if (r < 0)
                return r;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);

        /* Born 0600, so there is no moment where anyone else may connect;
         * only then opened up to the control group (the owner stays ours:
         * root, for the daemon). */
        old_umask = umask(0177);
        r = bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        umask(old_umask);
        if (r < 0)
                return -errno;

        if (gid != (gid_t) -1 && (chown(path, (uid_t) -1, gid) < 0 || chmod(path, 0660) < 0)) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        if (listen(fd, LISTEN_BACKLOG) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int control_new_with_timeout(sd_event *e, const char *runtime_dir, gid_t allowed_gid,
                             const struct control_command *cmds, size_t n_cmds,
                             uint64_t timeout_usec, struct control **ret)
{
        _cleanup_free_ char *path = NULL;
        struct control *c;
        int fd, r;

        r = ctlproto_socket_path(runtime_dir, &path);
        if (r < 0)
                return r;
        if (mkdir(runtime_dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        r = socket_open(path, allowed_gid, &fd);
        if (r < 0)
                return r;

        c = xcalloc(1, sizeof(*c));
        c->event = sd_event_ref(e);
        c->path = TAKE_PTR(path);
        c->fd = fd;
        c->allowed_gid = allowed_gid;
        c->timeout_usec = timeout_usec;
        c->cmds = xcalloc(n_cmds, sizeof(*c->cmds));
        if (n_cmds > 0)
                memcpy(c->cmds, cmds, n_cmds * sizeof(*cmds));
        c->n_cmds = n_cmds;

        r = sd_event_add_io(e, &c->listen, fd, EPOLLIN, on_accept, c);
        if (r < 0) {
                control_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int control_new(sd_event *e, const char *runtime_dir, gid_t allowed_gid,
                const struct control_command *cmds, size_t n_cmds, struct control **ret)
{
        return control_new_with_timeout(e, runtime_dir, allowed_gid, cmds, n_cmds, CONTROL_TIMEOUT_USEC, ret);
}

void control_free(struct control *c)
{
        if (!c)
                return;
        while (c->conns)
                conn_free(c->conns);
        sd_event_source_disable_unref(c->listen);
        sd_event_source_disable_unref(c->accept_pause);
        if (c->fd >= 0)
                close(c->fd);
        /* Best effort: a leftover socket is cleared at the next start anyway. */
        (void) unlink(c->path);
        sd_event_unref(c->event);
        free(c->path);
        free(c->cmds);
        free(c);
}

size_t control_n_connections(const struct control *c)
{
        return c->n_conns;
}
