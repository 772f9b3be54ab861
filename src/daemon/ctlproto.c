/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's wire format (see include/ctlproto.h). Pure functions
 * over buffers; vmtunectl links this file and util.c only, so nothing here
 * may call into the daemon's libraries (not even log.c). */
#include "daemon/ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "base/util.h"

static const uint8_t request_magic[4] = { 'V', 'M', 'T', 'C' };
static const uint8_t response_magic[4] = { 'V', 'M', 'T', 'R' };

static void put_u16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static uint16_t get_u16(const uint8_t *p)
{
        return (uint16_t) (p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

/* Check magic and version of a header prefix. 0: ours; -EAGAIN: too short
 * to tell; -EBADMSG; -EPROTONOSUPPORT. */
static int check_magic_version(const uint8_t *p, size_t len, const uint8_t magic[4])
{
        size_t n = len < 4 ? len : 4;

        if (len == 0)
                return -EAGAIN;
        /* Garbage is garbage from its first byte, even before the rest arrives. */
        if (memcmp(p, magic, n) != 0)
                return -EBADMSG;
        if (len < 5)
                return -EAGAIN;
        if (p[4] != CTLPROTO_VERSION)
                return -EPROTONOSUPPORT;
        return 0;
}

/* 1 when a whole header with this magic and our version is there, 0 while
 * it is still arriving, -EBADMSG/-EPROTONOSUPPORT when it never will be. */
static int header_complete(const uint8_t *p, size_t len, const uint8_t magic[4])
{
        int r = check_magic_version(p, len, magic);

        if (r == -EAGAIN)
                return 0;
        if (r < 0)
                return r;
        return len >= CTLPROTO_HEADER_SIZE;
}

int ctlproto_peek_version(const void *buf, size_t len)
{
        const uint8_t *p = buf;
        size_t n = len < 4 ? len : 4;

        if (len == 0)
                return -EAGAIN;
        if (memcmp(p, request_magic, n) != 0 && memcmp(p, response_magic, n) != 0)
                return -EBADMSG;
        if (len < 5)
                return -EAGAIN;
        return p[4];
}

int ctlproto_request_encode(int argc, char *const *argv, bool json, void **ret_buf, size_t *ret_len)
{
        size_t payload = 0;
        uint8_t *buf, *q;

        if (argc < 1 || (unsigned) argc > CTLPROTO_ARGS_MAX)
                return -EINVAL;
        for (int i = 0; i < argc; i++) {
                if (!argv[i])
                        return -EINVAL;
                payload += strlen(argv[i]) + 1;
                if (payload > CTLPROTO_REQUEST_MAX - CTLPROTO_HEADER_SIZE)
                        return -EMSGSIZE;
        }

        buf = xcalloc(1, CTLPROTO_HEADER_SIZE + payload);
        memcpy(buf, request_magic, 4);
        buf[4] = CTLPROTO_VERSION;
        buf[5] = json ? CTLPROTO_FLAG_JSON : 0;
        put_u16(buf + 6, (uint16_t) argc);
        put_u32(buf + 8, (uint32_t) payload);
        q = buf + CTLPROTO_HEADER_SIZE;
        for (int i = 0; i < argc; i++) {
                size_t l = strlen(argv[i]) + 1;
                memcpy(q, argv[i], l);
                q += l;
        }

        *ret_buf = buf;
        *ret_len = CTLPROTO_HEADER_SIZE + payload;
        return 0;
}

/* Split a payload of exactly argc NUL-terminated strings into a
 * NULL-terminated argv that shares one allocation with the strings. */
static int split_args(const uint8_t *payload, size_t len, unsigned argc, char ***ret)
{
        size_t n_nul = 0;
        char **argv, *strings;

        if (len == 0 || payload[len - 1] != '\0')
                return -EBADMSG;
        for (size_t i = 0; i < len; i++)
                if (payload[i] == '\0')
                        n_nul++;
        if (n_nul != argc)
                return -EBADMSG;

        argv = xcalloc(1, (argc + 1) * sizeof(char *) + len);
        strings = (char *) (argv + argc + 1);
        memcpy(strings, payload, len);
        for (unsigned i = 0; i < argc; i++) {
                argv[i] = strings;
                strings += strlen(strings) + 1;
        }
        argv[argc] = NULL;
        *ret = argv;
        return 0;
}

int ctlproto_request_parse(const void *buf, size_t len, struct ctlproto_request *ret, size_t *ret_consumed)
{
        const uint8_t *p = buf;
        uint32_t payload;
        unsigned argc;
        char **argv;
        int r;

        r = header_complete(p, len, request_magic);
        if (r <= 0)
                return r;

        if (p[5] & ~CTLPROTO_FLAG_JSON)
                return -EBADMSG;
        argc = get_u16(p + 6);
        payload = get_u32(p + 8);
        if (payload > CTLPROTO_REQUEST_MAX - CTLPROTO_HEADER_SIZE)
                return -EMSGSIZE;
        /* Each argument takes at least its NUL: a header whose argc cannot
         * fit its payload is a lie, and we say so without waiting for it. */
        if (argc < 1 || argc > CTLPROTO_ARGS_MAX || argc > payload)
                return -EBADMSG;
        if (len - CTLPROTO_HEADER_SIZE < payload)
                return 0;

        r = split_args(p + CTLPROTO_HEADER_SIZE, payload, argc, &argv);
        if (r < 0)
                return r;

        *ret = (struct ctlproto_request){
                .argc = (int) argc,
                .argv = argv,
                .json = p[5] & CTLPROTO_FLAG_JSON,
        };
        *ret_consumed = CTLPROTO_HEADER_SIZE + payload;
        return 1;
}

void ctlproto_request_done(struct ctlproto_request *req)
{
        free(req->argv);
        *req = (struct ctlproto_request){};
}

int ctlproto_response_encode(enum ctlproto_status status, int exit_code, const void *body, size_t body_len,
                             void **ret_buf, size_t *ret_len)
{
        uint8_t *buf;

        if ((status != CTLPROTO_STATUS_REPLY && status != CTLPROTO_STATUS_ERROR) ||
            exit_code < 0 || exit_code > 255 || (!body && body_len > 0))
                return -EINVAL;
        if (body_len > CTLPROTO_RESPONSE_MAX - CTLPROTO_HEADER_SIZE)
                return -EMSGSIZE;

        buf = xcalloc(1, CTLPROTO_HEADER_SIZE + body_len);
        memcpy(buf, response_magic, 4);
        buf[4] = CTLPROTO_VERSION;
        buf[5] = (uint8_t) status;
        buf[6] = (uint8_t) exit_code;
        buf[7] = 0;
        put_u32(buf + 8, (uint32_t) body_len);
        if (body_len > 0)
                memcpy(buf + CTLPROTO_HEADER_SIZE, body, body_len);

        *ret_buf = buf;
        *ret_len = CTLPROTO_HEADER_SIZE + body_len;
        return 0;
}

int ctlproto_response_parse(const void *buf, size_t len, struct ctlproto_response *ret, size_t *ret_consumed)
{
        const uint8_t *p = buf;
        uint32_t body_len;
        int r;

        r = header_complete(p, len, response_magic);
        if (r <= 0)
                return r;

        if (p[5] != CTLPROTO_STATUS_REPLY && p[5] != CTLPROTO_STATUS_ERROR)
                return -EBADMSG;
        if (p[7] != 0)
                return -EBADMSG;
        body_len = get_u32(p + 8);
        if (body_len > CTLPROTO_RESPONSE_MAX - CTLPROTO_HEADER_SIZE)
                return -EMSGSIZE;
        if (len - CTLPROTO_HEADER_SIZE < body_len)
                return 0;

        *ret = (struct ctlproto_response){
                .status = p[5],
                .exit_code = p[6],
                .body = (const char *) p + CTLPROTO_HEADER_SIZE,
                .body_len = body_len,
        };
        *ret_consumed = CTLPROTO_HEADER_SIZE + body_len;
        return 1;
}

int ctlproto_socket_path(const char *runtime_dir, char **ret)
{
        char *path;

        path = xasprintf("%s/%s", runtime_dir, CTLPROTO_SOCKET_NAME);
        if (strlen(path) >= sizeof(((struct sockaddr_un *) NULL)->sun_path)) {
                free(path);
                return -ENAMETOOLONG;
        }
        *ret = path;
        return 0;
}
