/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket server on a real sd-event loop in a temporary runtime
 * directory. No threads: the test is the client too. It connects, writes
 * its request (the kernel buffers it), then turns the loop until the server
 * has answered and closed. Peers of another uid are made by a forked child
 * that connects a socket the parent created, so the parent holds a
 * connection whose credentials are the child's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon/control.h"
#include "daemon/ctlproto.h"
#include "testlib.h"
#include "base/util.h"

#define TEST_TIMEOUT_USEC (200 * UINT64_C(1000)) /* per connection, instead of 5 s */
#define GIVE_UP_MS 10000                          /* "eventually": a hang is a failure, not a wait */
#define NOBODY 65534
#define CONTROL_GID 4242

struct fixture {
        char *dir;
        char *sock;
        sd_event *event;
        struct control *control;
        size_t max_connections; /* the most seen open at once */
};

/* --- handlers ---------------------------------------------------------- */

static int echo_handler(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        fprintf(out, "%s", (const char *) userdata);
        for (int i = 0; i < argc; i++)
                fprintf(out, " %s", argv[i]);
        fprintf(out, json ? " json\n" : "\n");
        return 0;
}

static int drift_handler(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        fprintf(out, "vm.swappiness: want 10, have 60\n");
        return 1;
}

static int buggy_handler(void *userdata, int argc, char **argv, bool json, FILE *out)
{
        return -EIO;
}

/* "profile list" only reads; "profile NAME" would switch. */
static bool profile_read_only_args(int argc, char *const *argv)
{
        return argc == 2 && strcmp(argv[1], "list") == 0;
}

static const struct control_command commands[] = {
        { "echo", "echo [ARGS...]", true, echo_handler, (void *) "said:", NULL },
        { "verify", "verify", false, drift_handler, NULL, NULL },
        { "buggy", "buggy", true, buggy_handler, NULL, NULL },
        { "profile", "profile [list | NAME]", false, echo_handler, (void *) "profile:", profile_read_only_args },
};

/* --- set-up ------------------------------------------------------------ */

static struct fixture *fixture_new(gid_t gid)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-control");
        f->sock = xasprintf("%s/vmtuned.sock", f->dir);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(control_new_with_timeout(f->event, f->dir, gid, commands, ARRAY_SIZE(commands),
                                                  TEST_TIMEOUT_USEC, &f->control), 0);
        return f;
}

static void fixture_free(struct fixture *f)
{
        control_free(f->control);
        sd_event_unref(f->event);
        tl_rm_rf(f->dir);
        free(f->dir);
        free(f->sock);
        free(f);
}

static int setup_root_only(void **state)
{
        *state = fixture_new((gid_t) -1);
        return 0;
}

static int setup_group(void **state)
{
        /* Only root may chown the socket to a group; the tests skip then. */
        *state = fixture_new(geteuid() == 0 ? CONTROL_GID : (gid_t) -1);
        return 0;
}

/* With a timeout no test outlasts: a connection the server drops was
 * dropped on purpose, never because it timed out. */
static int setup_group_patient(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-control");
        f->sock = xasprintf("%s/vmtuned.sock", f->dir);
        assert_int_equal(sd_event_new(&f->event), 0);
        assert_int_equal(control_new_with_timeout(f->event, f->dir, geteuid() == 0 ? CONTROL_GID : (gid_t) -1,
                                                  commands, ARRAY_SIZE(commands), 60 * UINT64_C(1000000),
                                                  &f->control), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        fixture_free(*state);
        return 0;
}

/* --- client side ------------------------------------------------------- */

static int client_socket(void)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        return fd;
}

static int client_connect_fd(const struct fixture *f, int fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
        return connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 ? -errno : 0;
}

static int client_connect(const struct fixture *f)
{
        int fd = client_socket();

        assert_int_equal(client_connect_fd(f, fd), 0);
        return fd;
}

static void client_send(int fd, const void *buf, size_t len)
{
        assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t) len);
}

static void client_send_command(int fd, int argc, char **argv, bool json)
{
        _cleanup_free_ void *buf = NULL;
        size_t len;

        assert_int_equal(ctlproto_request_encode(argc, argv, json, &buf, &len), 0);
        client_send(fd, buf, len);
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void loop_once(struct fixture *f)
{
        assert_true(sd_event_run(f->event, 10 * 1000) >= 0);
        if (f->control && control_n_connections(f->control) > f->max_connections)
                f->max_connections = control_n_connections(f->control);
}

/* Turn the loop until the server closes fd; everything it sent is in *ret. */
static size_t pump_until_closed(struct fixture *f, int fd, uint8_t **ret)
{
        uint8_t *buf = NULL;
        size_t len = 0, size = 0;
        long deadline = now_ms() + GIVE_UP_MS;

        for (;;) {
                ssize_t n;

                if (len == size)
                        buf = xreallocarray(buf, size = size ? 2 * size : 4096, 1);
                n = recv(fd, buf + len, size - len, MSG_DONTWAIT);
                if (n > 0) {
                        len += (size_t) n;
                        continue;
                }
                /* ECONNRESET: the server closed with our request unread. */
                if (n == 0 || (n < 0 && errno == ECONNRESET))
                        break;
                assert_true(errno == EAGAIN);
                assert_true(now_ms() < deadline);
                loop_once(f);
        }
        close(fd);
        *ret = buf;
        return len;
}

struct answer {
        uint8_t *raw;
        struct ctlproto_response resp;
        char *body; /* NUL-terminated copy */
};

static void answer_parse(uint8_t *raw, size_t len, struct answer *a)
{
        size_t used;

        a->raw = raw;
        assert_int_equal(ctlproto_response_parse(raw, len, &a->resp, &used), 1);
        assert_int_equal(used, len);
        a->body = xcalloc(1, a->resp.body_len + 1);
        memcpy(a->body, a->resp.body, a->resp.body_len);
}

static void answer_done(struct answer *a)
{
        free(a->raw);
        free(a->body);
}

static void ask_on(struct fixture *f, int fd, int argc, char **argv, bool json, struct answer *a)
{
        uint8_t *raw;
        size_t len;

        client_send_command(fd, argc, argv, json);
        len = pump_until_closed(f, fd, &raw);
        answer_parse(raw, len, a);
}

static void ask(struct fixture *f, int argc, char **argv, bool json, struct answer *a)
{
        ask_on(f, client_connect(f), argc, argv, json, a);
}

/* Connect fd to the server as uid (with supplementary groups
 * groups[0..n)) from a child; returns 0 or the child's connect errno. */
static int connect_as(const struct fixture *f, uid_t uid, int fd, const gid_t *groups, size_t n)
{
        pid_t pid;
        int status;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(n, groups) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                    setresuid(uid, uid, uid) < 0)
                        _exit(255);
                _exit(-client_connect_fd(f, fd));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 255);
        return WEXITSTATUS(status);
}

static int connect_as_nobody(const struct fixture *f, int fd, const gid_t *groups, size_t n)
{
        return connect_as(f, NOBODY, fd, groups, n);
}

static bool skip_unless_root(void)
{
        if (geteuid() == 0)
                return false;
        print_message("skipped: needs root to connect as another uid\n");
        return true;
}

/* --- tests ------------------------------------------------------------- */

static void test_handler_output_and_exit_code_come_back(void **state)
{
        struct fixture *f = *state;
        char *echo[] = { "echo", "a", "b c", NULL };
        char *verify[] = { "verify", NULL };
        struct answer a;

        ask(f, 3, echo, true, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_REPLY);
        assert_int_equal(a.resp.exit_code, 0);
        assert_string_equal(a.body, "said: echo a b c json\n");
        answer_done(&a);

        ask(f, 1, verify, false, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_REPLY);
        assert_int_equal(a.resp.exit_code, 1);
        assert_string_equal(a.body, "vm.swappiness: want 10, have 60\n");
        answer_done(&a);
        assert_int_equal(control_n_connections(f->control), 0);
}

static void test_handler_returning_an_errno_gives_exit_1_and_says_so(void **state)
{
        struct fixture *f = *state;
        char *buggy[] = { "buggy", NULL };
        struct answer a;

        ask(f, 1, buggy, false, &a);
        assert_int_equal(a.resp.exit_code, 1);
        assert_non_null(strstr(a.body, "'buggy' failed"));
        answer_done(&a);
}

static void test_unknown_command_gives_2_and_lists_the_commands(void **state)
{
        struct fixture *f = *state;
        char *nope[] = { "nope", NULL };
        struct answer a;

        ask(f, 1, nope, false, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_ERROR);
        assert_int_equal(a.resp.exit_code, 2);
        assert_non_null(strstr(a.body, "unknown command 'nope'"));
        assert_non_null(strstr(a.body, "echo [ARGS...]"));
        assert_non_null(strstr(a.body, "verify"));
        answer_done(&a);
}

static void test_socket_is_0600_and_removed_at_stop(void **state)
{
        struct fixture *f = *state;
        struct stat st;

        assert_int_equal(lstat(f->sock, &st), 0);
        assert_true(S_ISSOCK(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, geteuid());

        control_free(f->control);
        f->control = NULL;
        assert_int_equal(lstat(f->sock, &st), -1);
        assert_int_equal(errno, ENOENT);
}

static void test_socket_with_control_group_is_0660_and_group_owned(void **state)
{
        struct fixture *f = *state;
        struct stat st;

        if (skip_unless_root())
                return;
        assert_int_equal(lstat(f->sock, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0660);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, CONTROL_GID);
}

static void test_stale_socket_is_replaced_and_live_one_is_not_stolen(void **state)
{
        struct fixture *f = *state;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct control *second = NULL;
        char *echo[] = { "echo", NULL };
        struct answer a;
        int fd;

        /* A second daemon on the same runtime directory must not take over. */
        assert_int_equal(control_new(f->event, f->dir, (gid_t) -1, commands, 1, &second), -EADDRINUSE);
        assert_null(second);
        /* The first one still serves (and drops the probe's connection). */
        ask(f, 1, echo, false, &a);
        answer_done(&a);

        /* A dead daemon's socket: bound, never listening, owner gone. */
        control_free(f->control);
        f->control = NULL;
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->sock);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        close(fd);

        assert_int_equal(control_new_with_timeout(f->event, f->dir, (gid_t) -1, commands, ARRAY_SIZE(commands),
                                                  TEST_TIMEOUT_USEC, &f->control), 0);
        ask(f, 1, echo, false, &a);
        assert_string_equal(a.body, "said: echo\n");
        answer_done(&a);
}

static void test_something_else_at_the_socket_path_is_left_alone(void **state)
{
        struct fixture *f = *state;
        struct control *c = NULL;
        _cleanup_free_ char *content = NULL;

        control_free(f->control);
        f->control = NULL;
        tl_write(f->dir, "vmtuned.sock", "not a socket\n");
        assert_int_equal(control_new(f->event, f->dir, (gid_t) -1, commands, 1, &c), -EEXIST);
        content = tl_read(f->dir, "vmtuned.sock");
        assert_string_equal(content, "not a socket\n");
}

static void test_oversize_request_is_rejected(void **state)
{
        struct fixture *f = *state;
        size_t payload = CTLPROTO_REQUEST_MAX + 1000;
        _cleanup_free_ uint8_t *req = xcalloc(1, CTLPROTO_HEADER_SIZE + payload);
        struct answer a;
        uint8_t *raw;
        size_t len;
        int fd;

        memcpy(req, "VMTC", 4);
        req[4] = CTLPROTO_VERSION;
        req[7] = 1;                     /* argc 1 */
        req[10] = (uint8_t) (payload >> 8);
        req[11] = (uint8_t) payload;
        memset(req + CTLPROTO_HEADER_SIZE, 'a', payload - 1);

        fd = client_connect(f);
        client_send(fd, req, CTLPROTO_HEADER_SIZE + payload);
        len = pump_until_closed(f, fd, &raw);
        answer_parse(raw, len, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_ERROR);
        assert_int_equal(a.resp.exit_code, 2);
        assert_non_null(strstr(a.body, "too large"));
        answer_done(&a);
}

static void test_garbage_and_other_versions_get_a_usage_error(void **state)
{
        struct fixture *f = *state;
        char *echo[] = { "echo", NULL };
        _cleanup_free_ void *req = NULL;
        struct answer a;
        uint8_t *raw;
        size_t req_len, len;
        int fd;

        fd = client_connect(f);
        client_send(fd, "GET / HTTP/1.0\r\n\r\n", 18);
        len = pump_until_closed(f, fd, &raw);
        answer_parse(raw, len, &a);
        assert_int_equal(a.resp.exit_code, 2);
        assert_non_null(strstr(a.body, "malformed request"));
        answer_done(&a);

        assert_int_equal(ctlproto_request_encode(1, echo, false, &req, &req_len), 0);
        ((uint8_t *) req)[4] = CTLPROTO_VERSION + 1;
        fd = client_connect(f);
        client_send(fd, req, req_len);
        len = pump_until_closed(f, fd, &raw);
        answer_parse(raw, len, &a);   /* the answer is in the server's version */
        assert_int_equal(a.resp.exit_code, 2);
        assert_non_null(strstr(a.body, "version mismatch"));
        answer_done(&a);
}

static void test_silent_client_is_dropped_after_the_timeout(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ void *req = NULL;
        char *echo[] = { "echo", NULL };
        uint8_t *raw;
        size_t req_len;
        int silent, halfway;

        silent = client_connect(f);
        halfway = client_connect(f);
        assert_int_equal(ctlproto_request_encode(1, echo, false, &req, &req_len), 0);
        client_send(halfway, req, req_len - 1);

        assert_int_equal(pump_until_closed(f, silent, &raw), 0);
        free(raw);
        assert_int_equal(pump_until_closed(f, halfway, &raw), 0);
        free(raw);
        assert_int_equal(control_n_connections(f->control), 0);
}

static void test_clients_beyond_the_cap_wait_their_turn(void **state)
{
        struct fixture *f = *state;
        char *echo[] = { "echo", "late", NULL };
        int silent[CONTROL_MAX_CLIENTS];
        struct answer a;
        uint8_t *raw;

        for (size_t i = 0; i < ARRAY_SIZE(silent); i++)
                silent[i] = client_connect(f);
        /* Sent before the server has accepted it: the kernel holds it. */
        ask(f, 2, echo, false, &a);
        assert_string_equal(a.body, "said: echo late\n");
        answer_done(&a);
        assert_true(f->max_connections <= CONTROL_MAX_CLIENTS);
        assert_int_equal(f->max_connections, CONTROL_MAX_CLIENTS);

        for (size_t i = 0; i < ARRAY_SIZE(silent); i++) {
                pump_until_closed(f, silent[i], &raw);
                free(raw);
        }
}

static void test_non_root_peer_is_refused(void **state)
{
        struct fixture *f = *state;
        char *echo[] = { "echo", NULL };
        struct answer a;
        int fd;

        if (skip_unless_root())
                return;
        assert_int_equal(chmod(f->dir, 0755), 0);

        /* The socket's mode keeps nobody out... */
        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, NULL, 0), EACCES);
        close(fd);

        /* ...and if the mode were wrong, the daemon still refuses. */
        assert_int_equal(chmod(f->sock, 0666), 0);
        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, NULL, 0), 0);
        ask_on(f, fd, 1, echo, false, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_ERROR);
        assert_int_equal(a.resp.exit_code, 4);
        assert_string_equal(a.body, "permission denied: vmtunectl must run as root\n");
        answer_done(&a);
}

static void test_control_group_member_may_only_run_read_only_commands(void **state)
{
        struct fixture *f = *state;
        const gid_t member[] = { 100, CONTROL_GID };
        char *echo[] = { "echo", NULL };
        char *verify[] = { "verify", NULL };
        char *profile_list[] = { "profile", "list", NULL };
        char *profile_switch[] = { "profile", "other", NULL };
        struct answer a;
        int fd;

        if (skip_unless_root())
                return;
        assert_int_equal(chmod(f->dir, 0755), 0);

        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, NULL, 0), EACCES);
        close(fd);

        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, member, ARRAY_SIZE(member)), 0);
        ask_on(f, fd, 1, echo, false, &a);
        assert_int_equal(a.resp.exit_code, 0);
        assert_string_equal(a.body, "said: echo\n");
        answer_done(&a);

        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, member, ARRAY_SIZE(member)), 0);
        ask_on(f, fd, 1, verify, false, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_ERROR);
        assert_int_equal(a.resp.exit_code, 4);
        assert_non_null(strstr(a.body, "'verify' needs root"));
        answer_done(&a);

        /* A command whose arguments decide: "profile list" reads, "profile x" does not. */
        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, member, ARRAY_SIZE(member)), 0);
        ask_on(f, fd, 2, profile_list, false, &a);
        assert_int_equal(a.resp.exit_code, 0);
        assert_string_equal(a.body, "profile: profile list\n");
        answer_done(&a);

        fd = client_socket();
        assert_int_equal(connect_as_nobody(f, fd, member, ARRAY_SIZE(member)), 0);
        ask_on(f, fd, 2, profile_switch, false, &a);
        assert_int_equal(a.resp.exit_code, 4);
        assert_non_null(strstr(a.body, "'profile' needs root"));
        answer_done(&a);
}

/* Has the server answered or closed fd? An idle connection it keeps gets
 * neither. Does not wait: what the server did so far. */
static bool closed_by_server(int fd)
{
        char c;
        ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);

        return n >= 0 || errno == ECONNRESET;
}

/* Turn the loop until the server has taken or closed each of fds[0..n):
 * none waits in the backlog any more. */
static size_t settle(struct fixture *f, const int *fds, size_t n)
{
        long deadline = now_ms() + GIVE_UP_MS;

        for (;;) {
                size_t closed = 0;

                for (size_t i = 0; i < n; i++)
                        closed += closed_by_server(fds[i]);
                if (closed + control_n_connections(f->control) == n)
                        return closed;
                assert_true(now_ms() < deadline);
                loop_once(f);
        }
}

/* Group members (uids NOBODY, NOBODY-1, ...) holding every slot without a
 * word must not keep root waiting: those beyond the group's share are
 * closed at accept, and root is answered while the rest stay connected
 * (the timeout is longer than the test, so none is dropped for silence). */
static void test_idle_group_members_cannot_delay_root(void **state)
{
        struct fixture *f = *state;
        const gid_t member[] = { CONTROL_GID };
        enum { UIDS = 4, PER_UID = CONTROL_MAX_CLIENTS / UIDS + 1, N = UIDS * PER_UID };
        char *echo[] = { "echo", "root", NULL };
        int idle[N];
        size_t kept, closed;
        struct answer a;

        if (skip_unless_root())
                return;
        assert_int_equal(chmod(f->dir, 0755), 0);
        for (size_t i = 0; i < N; i++) {
                idle[i] = client_socket();
                assert_int_equal(connect_as(f, NOBODY - (uid_t) (i % UIDS), idle[i], member, 1), 0);
        }
        closed = settle(f, idle, N);
        kept = control_n_connections(f->control);
        assert_int_equal(kept, CONTROL_MAX_CLIENTS - CONTROL_ROOT_RESERVE);

        ask(f, 2, echo, false, &a);
        assert_string_equal(a.body, "said: echo root\n");
        answer_done(&a);
        assert_int_equal(control_n_connections(f->control), kept);
        assert_int_equal(settle(f, idle, N), closed);
        for (size_t i = 0; i < N; i++)
                close(idle[i]);
}

/* One member cannot take the whole share of the group either. */
static void test_one_uid_gets_at_most_its_share(void **state)
{
        struct fixture *f = *state;
        const gid_t member[] = { CONTROL_GID };
        char *echo[] = { "echo", NULL };
        int idle[CONTROL_MAX_CLIENTS];
        struct answer a;
        uint8_t *raw;
        size_t len;
        int fd;

        if (skip_unless_root())
                return;
        assert_int_equal(chmod(f->dir, 0755), 0);
        for (size_t i = 0; i < ARRAY_SIZE(idle); i++) {
                idle[i] = client_socket();
                assert_int_equal(connect_as_nobody(f, idle[i], member, 1), 0);
        }
        assert_int_equal(settle(f, idle, ARRAY_SIZE(idle)), CONTROL_MAX_CLIENTS - CONTROL_MAX_CLIENTS_PER_UID);
        assert_int_equal(control_n_connections(f->control), CONTROL_MAX_CLIENTS_PER_UID);
        /* The last one was refused, and told why. */
        len = pump_until_closed(f, idle[ARRAY_SIZE(idle) - 1], &raw);
        answer_parse(raw, len, &a);
        assert_int_equal(a.resp.status, CTLPROTO_STATUS_ERROR);
        assert_int_equal(a.resp.exit_code, 1);
        assert_string_equal(a.body, "vmtuned is busy: this uid holds as many connections as one uid may; try again\n");
        answer_done(&a);
        idle[ARRAY_SIZE(idle) - 1] = -1;

        /* Another member still gets in and is answered. */
        fd = client_socket();
        assert_int_equal(connect_as(f, NOBODY - 1, fd, member, 1), 0);
        ask_on(f, fd, 1, echo, false, &a);
        assert_int_equal(a.resp.exit_code, 0);
        answer_done(&a);
        for (size_t i = 0; i < ARRAY_SIZE(idle); i++)
                if (idle[i] >= 0)
                        close(idle[i]);
}

/* --- vmtunectl against this server ------------------------------------- */

/* Run vmtunectl ARGS (as uid NOBODY if as_nobody) while turning the loop;
 * its exit code, with stdout and stderr in *ret_out and *ret_err. */
static int run_vmtunectl(struct fixture *f, const char *bin, bool as_nobody, char *const *args,
                         char **ret_out, char **ret_err)
{
        char *argv[16] = { (char *) bin, "--runtime-dir", f->dir };
        long deadline = now_ms() + GIVE_UP_MS;
        size_t n = 3;
        int status;
        pid_t pid;

        for (; *args && n < ARRAY_SIZE(argv) - 1; args++)
                argv[n++] = *args;
        argv[n] = NULL;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                _cleanup_free_ char *out = xasprintf("%s/stdout", f->dir);
                _cleanup_free_ char *err = xasprintf("%s/stderr", f->dir);
                int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);

                if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                        _exit(127);
                if (as_nobody && (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                                  setresuid(NOBODY, NOBODY, NOBODY) < 0))
                        _exit(127);
                execv(bin, argv);
                _exit(127);
        }
        while (waitpid(pid, &status, WNOHANG) == 0) {
                assert_true(now_ms() < deadline);
                loop_once(f);
        }
        *ret_out = tl_read(f->dir, "stdout");
        *ret_err = tl_read(f->dir, "stderr");
        assert_true(WIFEXITED(status));
        return WEXITSTATUS(status);
}

static const char *vmtunectl_or_skip(void)
{
        const char *bin = getenv("VMTUNECTL_BIN");

        if (bin && access(bin, X_OK) == 0)
                return bin;
        print_message("skipped: $VMTUNECTL_BIN is %s\n", bin ? "not executable" : "unset");
        return NULL;
}

static void test_vmtunectl_prints_the_body_and_passes_the_exit_code_on(void **state)
{
        struct fixture *f = *state;
        const char *bin = vmtunectl_or_skip();
        char *out, *err;

        if (!bin)
                return;
        assert_int_equal(run_vmtunectl(f, bin, false, (char *[]){ "echo", "x", "--json", NULL }, &out, &err), 0);
        assert_string_equal(out, "said: echo x json\n");
        assert_string_equal(err, "");
        free(out), free(err);

        assert_int_equal(run_vmtunectl(f, bin, false, (char *[]){ "verify", NULL }, &out, &err), 1);
        assert_string_equal(out, "vm.swappiness: want 10, have 60\n");
        free(out), free(err);

        assert_int_equal(run_vmtunectl(f, bin, false, (char *[]){ "nope", NULL }, &out, &err), 2);
        assert_string_equal(out, "");
        assert_non_null(strstr(err, "unknown command 'nope'"));
        free(out), free(err);
}

static void test_vmtunectl_exit_codes_without_daemon_and_without_permission(void **state)
{
        struct fixture *f = *state;
        const char *bin = vmtunectl_or_skip();
        char *out, *err;

        if (!bin)
                return;
        control_free(f->control);
        f->control = NULL;
        assert_int_equal(run_vmtunectl(f, bin, false, (char *[]){ "status", NULL }, &out, &err), 3);
        assert_non_null(strstr(err, "vmtuned is not running (no socket at "));
        free(out), free(err);

        if (skip_unless_root())
                return;
        assert_int_equal(control_new_with_timeout(f->event, f->dir, (gid_t) -1, commands, ARRAY_SIZE(commands),
                                                  TEST_TIMEOUT_USEC, &f->control), 0);
        assert_int_equal(chmod(f->dir, 0755), 0);
        assert_int_equal(run_vmtunectl(f, bin, true, (char *[]){ "echo", NULL }, &out, &err), 4);
        assert_string_equal(err, "permission denied: vmtunectl must run as root\n");
        free(out), free(err);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_handler_output_and_exit_code_come_back, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_handler_returning_an_errno_gives_exit_1_and_says_so, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_command_gives_2_and_lists_the_commands, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_socket_is_0600_and_removed_at_stop, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_socket_with_control_group_is_0660_and_group_owned, setup_group, teardown),
                cmocka_unit_test_setup_teardown(test_stale_socket_is_replaced_and_live_one_is_not_stolen, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_something_else_at_the_socket_path_is_left_alone, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_oversize_request_is_rejected, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_garbage_and_other_versions_get_a_usage_error, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_silent_client_is_dropped_after_the_timeout, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_clients_beyond_the_cap_wait_their_turn, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_non_root_peer_is_refused, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_control_group_member_may_only_run_read_only_commands, setup_group, teardown),
                cmocka_unit_test_setup_teardown(test_idle_group_members_cannot_delay_root, setup_group_patient, teardown),
                cmocka_unit_test_setup_teardown(test_one_uid_gets_at_most_its_share, setup_group_patient, teardown),
                cmocka_unit_test_setup_teardown(test_vmtunectl_prints_the_body_and_passes_the_exit_code_on, setup_root_only, teardown),
                cmocka_unit_test_setup_teardown(test_vmtunectl_exit_codes_without_daemon_and_without_permission, setup_root_only, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
