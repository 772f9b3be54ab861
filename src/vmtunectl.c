/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmtunectl: send one command to the running vmtuned and print its answer.
 *
 * The daemon does all the work, formatting included (text tables and
 * --json); this program only frames the request, maps connection errors to
 * exit codes, and prints the body as is. It uses ctlproto.c and util.c
 * only, so it needs none of the daemon's libraries at run time. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include "daemon/ctlproto.h"
#include "args.h" /* VMTUNED_VERSION only */
#include "base/json.h"
#include "base/util.h"
#include "config/tuned-import.h"

/* Applying a profile runs inside the daemon while we wait; give it time,
 * but do not hang forever on a daemon that is stuck. */
#define REPLY_TIMEOUT_SEC 120

/* Set once --json is known: every failure then is the contract's
 * {"version":1,"error":"..."} on stdout (vmtunectl(8), JSON OUTPUT), with
 * the same exit code as the line of text on stderr it replaces. */
static bool json_errors;

static _printf_(1, 2) void fail(const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        msg = xvasprintf(fmt, ap);
        va_end(ap);
        if (json_errors) {
                json_print_error(stdout, msg);
                fflush(stdout);
        } else
                fprintf(stderr, "%s\n", msg);
}

struct cli {
        const char *runtime_dir;
        bool json;
        int argc;    /* the command and its arguments */
        char **argv;
        char *reset_argv[3]; /* "profile --reset", which getopt would take for an option of ours */
};

/* For --help only: the daemon's own table (src/commands.c) decides what
 * exists; tests/system/test-vmtunectl.c checks that this list names the
 * same commands. */
static const char *const known_commands[][2] = {
        { "status", "daemon state, active profile, drift, libvirt" },
        { "profile list", "the profiles found, the active one marked" },
        { "profile show [NAME]", "a profile's resolved settings (default: the running one)" },
        { "profile NAME", "switch to profile NAME; the choice lasts across reload and restart" },
        { "profile --reset", "forget that choice: back to the configuration's profile=" },
        { "verify", "desired vs actual vs original value, per key (exit 1 on drift or a key not on this kernel)" },
        { "domains", "node loads, VMs and their NUMA placement" },
        { "plan", "the balancer's last decision and why" },
        { "metrics", "the metrics for Prometheus, as metrics_file= gets them" },
        { "reload", "re-read the configuration" },
        { "off", "roll back every setting and keep running" },
        { "advise [DOMAIN...]", "per-VM advice from the guides, each with its source (exit 1 if any)" },
        { "recommend", "the profile that fits this host, and why" },
        { "profile --recommended", "switch to that profile" },
        { "import-tuned DIR", "a tuned profile directory as a vmtuned profile, on stdout (no daemon needed)" },
};

static void help(FILE *f)
{
        fprintf(f,
                "Usage: vmtunectl [OPTIONS] COMMAND [ARGS...]\n"
                "Ask the running vmtuned.\n\n"
                "Options:\n"
                "  -R, --runtime-dir DIR   where vmtuned.sock is (default " CTLPROTO_DEFAULT_RUNTIME_DIR ")\n"
                "  -j, --json              answer in JSON\n"
                "  -h, --help              this help\n"
                "  -V, --version           version and control protocol\n\n"
                "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(known_commands); i++)
                fprintf(f, "  %-22s  %s\n", known_commands[i][0], known_commands[i][1]);
        fprintf(f,
                "\nExit status: 0 ok, 1 failure or drift, 2 usage, 3 vmtuned not running,\n"
                "4 permission denied.\n");
}

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_argv(int argc, char **argv, struct cli *ret)
{
        static const struct option options[] = {
                { "runtime-dir", required_argument, NULL, 'R' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { "reset", no_argument, NULL, 'Z' },
                { "recommended", no_argument, NULL, 'Y' },
                {},
        };
        struct cli cli = { .runtime_dir = CTLPROTO_DEFAULT_RUNTIME_DIR };
        _cleanup_free_ char *bad_option = NULL;
        bool reset = false;
        const char *profile_flag = "--reset";
        int c;

        /* GNU permutation on purpose: "vmtunectl domains --json" works too;
         * "--" ends the options for an argument that starts with '-'. A
         * bad option is reported after the loop, once it is known whether
         * --json (which may come later) wants the report in JSON. */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "R:jhV", options, NULL)) >= 0) {
                switch (c) {
                case 'R':
                        cli.runtime_dir = optarg;
                        break;
                case 'j':
                        cli.json = true;
                        break;
                case 'h':
                        help(stdout);
                        return CTL_EXIT_OK;
                case 'V':
                        printf("vmtunectl %s (control protocol %d)\n", VMTUNED_VERSION, CTLPROTO_VERSION);
                        return CTL_EXIT_OK;
                case 'Z':
                        reset = true;
                        break;
                case 'Y':
                        reset = true;
                        profile_flag = "--recommended";
                        break;
                default:
                        if (!bad_option)
                                bad_option = optopt ? xasprintf("-%c", optopt) : xstrdup(argv[optind - 1]);
                        break;
                }
        }
        json_errors = cli.json;
        if (bad_option) {
                fail("vmtunectl: unknown option or missing argument: %s (try 'vmtunectl --help')", bad_option);
                return CTL_EXIT_USAGE;
        }
        if (optind >= argc) {
                fail("vmtunectl: no command given (try 'vmtunectl --help')");
                if (!json_errors)
                        help(stderr);
                return CTL_EXIT_USAGE;
        }
        cli.argc = argc - optind;
        cli.argv = argv + optind;
        /* --reset belongs to "profile": hand it on as the argument it is. */
        if (reset) {
                if (cli.argc != 1 || !streq(cli.argv[0], "profile")) {
                        fail("vmtunectl: %s goes with profile only: vmtunectl profile %s", profile_flag,
                             profile_flag);
                        return CTL_EXIT_USAGE;
                }
                cli.reset_argv[0] = cli.argv[0];
                cli.reset_argv[1] = (char *) profile_flag;
                cli.argc = 2;
        }
        *ret = cli;
        if (reset)
                ret->argv = ret->reset_argv;
        return -1;
}

/* Returns -1 with *ret_fd connected, or the exit code to leave with. */
static int connect_daemon(const char *runtime_dir, int *ret_fd)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct timeval tv = { .tv_sec = REPLY_TIMEOUT_SEC };
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = ctlproto_socket_path(runtime_dir, &path);
        if (r < 0) {
                fail("vmtunectl: runtime directory path too long: %s", runtime_dir);
                return CTL_EXIT_USAGE;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                fail("vmtunectl: socket: %m");
                return CTL_EXIT_FAILURE;
        }
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);

        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                switch (errno) {
                case ENOENT:
                case ENOTDIR:
                        fail("vmtuned is not running (no socket at %s)", path);
                        return CTL_EXIT_NOT_RUNNING;
                case ECONNREFUSED:
                        fail("vmtuned is not running (nothing listening on %s)", path);
                        return CTL_EXIT_NOT_RUNNING;
                case EACCES:
                case EPERM:
                        fail("permission denied: vmtunectl must run as root");
                        return CTL_EXIT_PERMISSION;
                default:
                        fail("vmtunectl: cannot connect to %s: %m", path);
                        return CTL_EXIT_FAILURE;
                }
        }
        *ret_fd = TAKE_FD(fd);
        return -1;
}

static int send_all(int fd, const uint8_t *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                buf += n;
                len -= (size_t) n;
        }
        return 0;
}

/* Read until a whole response has arrived. Returns -1 with *ret filled
 * (pointing into *ret_buf, which the caller frees), or an exit code. */
static int receive_response(int fd, uint8_t **ret_buf, struct ctlproto_response *ret)
{
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0, size = 0, used;
        int r;

        for (;;) {
                ssize_t n;

                if (len == size) {
                        size = size ? size * 2 : 4096;
                        buf = xreallocarray(buf, size, 1);
                }
                n = recv(fd, buf + len, size - len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                        fail("vmtunectl: no answer from vmtuned within %d s", REPLY_TIMEOUT_SEC);
                        return CTL_EXIT_FAILURE;
                }
                if (n < 0) {
                        fail("vmtunectl: reading the answer: %m");
                        return CTL_EXIT_FAILURE;
                }
                if (n == 0) {
                        fail("vmtunectl: vmtuned closed the connection %s",
                             len == 0 ? "without answering" : "in the middle of its answer");
                        return CTL_EXIT_FAILURE;
                }
                len += (size_t) n;

                r = ctlproto_response_parse(buf, len, ret, &used);
                if (r > 0)
                        break;
                if (r == -EPROTONOSUPPORT) {
                        fail("vmtunectl: protocol version mismatch: vmtuned speaks control protocol %d, "
                             "this vmtunectl %d; use the vmtunectl of the running vmtuned, or restart "
                             "vmtuned after an upgrade",
                                ctlproto_peek_version(buf, len), CTLPROTO_VERSION);
                        return CTL_EXIT_FAILURE;
                }
                if (r < 0) {
                        fail("vmtunectl: garbled answer from vmtuned: %s", strerror(-r));
                        return CTL_EXIT_FAILURE;
                }
        }
        *ret_buf = TAKE_PTR(buf);
        return -1;
}

static int print_response(const struct ctlproto_response *resp)
{
        FILE *f = resp->status == CTLPROTO_STATUS_REPLY ? stdout : stderr;

        /* A refusal (permission, unknown command, protocol) is text from
         * the daemon's control socket, whatever was asked: in JSON it is
         * one error like the others. */
        if (resp->status != CTLPROTO_STATUS_REPLY && json_errors) {
                size_t len = resp->body_len;

                while (len > 0 && resp->body[len - 1] == '\n')
                        len--;
                fail("%.*s", (int) len, (const char *) resp->body);
                return resp->exit_code;
        }
        if (resp->body_len > 0)
                fwrite(resp->body, 1, resp->body_len, f);
        if (fflush(f) != 0 || ferror(f)) {
                if (f == stdout)
                        fprintf(stderr, "vmtunectl: writing the answer: %m\n");
                return CTL_EXIT_FAILURE;
        }
        return resp->exit_code;
}

static int run(const struct cli *cli)
{
        _cleanup_free_ void *request = NULL;
        _cleanup_free_ uint8_t *answer = NULL;
        _cleanup_close_ int fd = -1;
        struct ctlproto_response resp;
        size_t request_len;
        int r, send_error;

        r = ctlproto_request_encode(cli->argc, cli->argv, cli->json, &request, &request_len);
        if (r < 0) {
                fail("vmtunectl: command too long (at most %u arguments, %u bytes)",
                     CTLPROTO_ARGS_MAX, CTLPROTO_REQUEST_MAX);
                return CTL_EXIT_USAGE;
        }

        r = connect_daemon(cli->runtime_dir, &fd);
        if (r >= 0)
                return r;

        /* If the daemon hung up early it may still have said why: read its
         * answer before reporting the send error. */
        send_error = send_all(fd, request, request_len);
        (void) shutdown(fd, SHUT_WR);
        r = receive_response(fd, &answer, &resp);
        if (r >= 0) {
                if (send_error < 0)
                        fail("vmtunectl: sending the request: %s", strerror(-send_error));
                return r;
        }
        return print_response(&resp);
}

/* import-tuned runs here: it reads a directory and needs no daemon. */
static int import_tuned(const struct cli *cli)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *profile = NULL;
        const char *dir, *name;
        size_t size = 0;
        FILE *f;

        if (cli->argc != 2 || cli->json) {
                fail("usage: vmtunectl import-tuned DIR (no --json: its answer is a profile)");
                return CTL_EXIT_USAGE;
        }
        dir = cli->argv[1];
        name = strrchr(dir, '/') && strrchr(dir, '/')[1] ? strrchr(dir, '/') + 1 : dir;
        path = xasprintf("%s/tuned.conf", dir);
        f = fopen(path, "re");
        if (!f) {
                fail("vmtunectl: cannot read %s: %m", path);
                return CTL_EXIT_FAILURE;
        }
        if (getdelim(&text, &size, '\0', f) < 0 && !feof(f)) {
                fail("vmtunectl: reading %s: %m", path);
                fclose(f);
                return CTL_EXIT_FAILURE;
        }
        fclose(f);
        profile = tuned_import(name, text ? text : "");
        fputs(profile, stdout);
        return fflush(stdout) == 0 ? CTL_EXIT_OK : CTL_EXIT_FAILURE;
}

int main(int argc, char **argv)
{
        struct cli cli;
        int r;

        r = parse_argv(argc, argv, &cli);
        if (r >= 0)
                return r;
        if (streq(cli.argv[0], "import-tuned"))
                return import_tuned(&cli);
        return run(&cli);
}
