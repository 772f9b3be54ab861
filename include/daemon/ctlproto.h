/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's wire format, shared by vmtuned (src/control.c) and
 * vmtunectl: one encoder and one decoder for both sides.
 *
 * One request and one response per connection. All integers big-endian.
 *
 *   request:  magic "VMTC" (4) | version (1) | flags (1) | argc (2) | payload length (4)
 *             | payload: argc NUL-terminated arguments, back to back
 *   response: magic "VMTR" (4) | version (1) | status (1) | exit code (1) | 0 (1) | body length (4)
 *             | body
 *
 * The first five bytes (magic, version) never change between versions, so
 * either side can always tell "wrong version" from "garbage". Every decoder
 * is a pure function over a buffer, with every length checked. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTLPROTO_VERSION 1
#define CTLPROTO_HEADER_SIZE 12

#define CTLPROTO_REQUEST_MAX  4096u             /* whole request, header included */
#define CTLPROTO_ARGS_MAX     128u
#define CTLPROTO_RESPONSE_MAX (64u * 1024 * 1024) /* a sanity cap for the client */

#define CTLPROTO_FLAG_JSON 0x01u

#define CTLPROTO_SOCKET_NAME "vmtuned.sock"
#define CTLPROTO_DEFAULT_RUNTIME_DIR "/run/vmtuned"

/* vmtunectl's exit codes, also the exit codes a response carries. */
enum {
        CTL_EXIT_OK = 0,
        CTL_EXIT_FAILURE = 1,     /* the command failed, or verify found drift */
        CTL_EXIT_USAGE = 2,       /* bad command line, unknown command, bad request */
        CTL_EXIT_NOT_RUNNING = 3, /* no socket, or nobody listening on it */
        CTL_EXIT_PERMISSION = 4,  /* EACCES on the socket, or the daemon refused */
};

enum ctlproto_status {
        CTLPROTO_STATUS_REPLY = 0, /* a handler ran: body is its output, for stdout */
        CTLPROTO_STATUS_ERROR = 1, /* the daemon refused the request: body is a message, for stderr */
};

/* A decoded request. argv is NULL-terminated and, with its strings, lives in
 * one allocation owned by the struct. */
struct ctlproto_request {
        int argc;
        char **argv;
        bool json;
};

/* A decoded response. body points into the buffer that was parsed (no copy)
 * and is not NUL-terminated. */
struct ctlproto_response {
        enum ctlproto_status status;
        int exit_code;
        const char *body;
        size_t body_len;
};

/* Encode a request into a newly allocated buffer. -EINVAL: argc < 1 or more
 * than CTLPROTO_ARGS_MAX arguments; -EMSGSIZE: longer than CTLPROTO_REQUEST_MAX. */
int ctlproto_request_encode(int argc, char *const *argv, bool json, void **ret_buf, size_t *ret_len);

/* Parse a request from the first len bytes received so far.
 *   1  complete: *ret filled, *ret_consumed the bytes it used;
 *   0  incomplete, read more (nothing in the header is wrong yet);
 *   -EBADMSG          wrong magic, unknown flags, argc or payload inconsistent;
 *   -EPROTONOSUPPORT  right magic, another version (see ctlproto_peek_version);
 *   -EMSGSIZE         the header announces more than CTLPROTO_REQUEST_MAX. */
int ctlproto_request_parse(const void *buf, size_t len, struct ctlproto_request *ret, size_t *ret_consumed);
void ctlproto_request_done(struct ctlproto_request *req);

/* Encode a response; exit_code must be 0..255. -EINVAL, -EMSGSIZE. */
int ctlproto_response_encode(enum ctlproto_status status, int exit_code, const void *body, size_t body_len,
                             void **ret_buf, size_t *ret_len);

/* Like ctlproto_request_parse, for responses (cap CTLPROTO_RESPONSE_MAX). */
int ctlproto_response_parse(const void *buf, size_t len, struct ctlproto_response *ret, size_t *ret_consumed);

/* The protocol version in a request or response header: >= 0; -EAGAIN if
 * the magic and version bytes have not all arrived; -EBADMSG if the magic is
 * neither a request's nor a response's. */
int ctlproto_peek_version(const void *buf, size_t len);

/* RUNTIME_DIR/vmtuned.sock, or -ENAMETOOLONG if it does not fit sun_path. */
int ctlproto_socket_path(const char *runtime_dir, char **ret);
