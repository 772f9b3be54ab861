/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control protocol (src/daemon/ctlproto.c): the daemon decodes requests
 * from any member of control_group, vmtunectl decodes responses. Both
 * decoders on the raw bytes, then the round trips: a decoded message
 * encodes back to exactly its bytes (the format has one spelling per
 * message), every strict prefix of it reads as "incomplete" (the daemon
 * parses what has arrived so far), and what the encoders make from
 * arbitrary arguments and bodies decodes to the same message. */
#include <errno.h>

#include "daemon/ctlproto.h"
#include "fuzz.h"

static void check_request_bytes(const uint8_t *data, size_t size)
{
        struct ctlproto_request req;
        size_t consumed = 0;
        void *buf = NULL;
        size_t len = 0;
        int r;

        r = ctlproto_request_parse(data, size, &req, &consumed);
        FUZZ_CHECK(r == 1 || r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EMSGSIZE);
        if (r != 1)
                return;
        FUZZ_CHECK(consumed >= CTLPROTO_HEADER_SIZE && consumed <= size && consumed <= CTLPROTO_REQUEST_MAX);
        FUZZ_CHECK(req.argc >= 1 && (unsigned) req.argc <= CTLPROTO_ARGS_MAX && !req.argv[req.argc]);
        FUZZ_CHECK(ctlproto_peek_version(data, size) == CTLPROTO_VERSION);

        FUZZ_CHECK(ctlproto_request_encode(req.argc, req.argv, req.json, &buf, &len) == 0);
        FUZZ_CHECK(len == consumed && memcmp(buf, data, len) == 0);
        free(buf);

        for (size_t k = 0; k < consumed; k++) {
                struct ctlproto_request part;
                size_t part_consumed;

                FUZZ_CHECK(ctlproto_request_parse(data, k, &part, &part_consumed) == 0);
        }
        ctlproto_request_done(&req);
}

static void check_response_bytes(const uint8_t *data, size_t size)
{
        struct ctlproto_response resp;
        size_t consumed = 0;
        void *buf = NULL;
        size_t len = 0;
        int r;

        r = ctlproto_response_parse(data, size, &resp, &consumed);
        FUZZ_CHECK(r == 1 || r == 0 || r == -EBADMSG || r == -EPROTONOSUPPORT || r == -EMSGSIZE);
        if (r != 1)
                return;
        FUZZ_CHECK(consumed == CTLPROTO_HEADER_SIZE + resp.body_len && consumed <= size);
        FUZZ_CHECK(resp.body == (const char *) data + CTLPROTO_HEADER_SIZE);

        FUZZ_CHECK(ctlproto_response_encode(resp.status, resp.exit_code, resp.body, resp.body_len, &buf, &len) == 0);
        FUZZ_CHECK(len == consumed && memcmp(buf, data, len) == 0);
        free(buf);

        for (size_t k = 0; k < consumed; k++) {
                struct ctlproto_response part;
                size_t part_consumed;

                FUZZ_CHECK(ctlproto_response_parse(data, k, &part, &part_consumed) == 0);
        }
}

/* The input as arguments: NUL-separated, the first byte's low bit is
 * --json. */
static void check_request_encode(const uint8_t *data, size_t size)
{
        char *copy, *argv[CTLPROTO_ARGS_MAX + 2];
        size_t argc = 0, payload = 0;
        struct ctlproto_request req;
        size_t consumed = 0, len = 0;
        bool json;
        void *buf = NULL;
        int r;

        if (size == 0)
                return;
        json = data[0] & 1;
        copy = fuzz_text(data + 1, size - 1);
        for (size_t i = 0; i < size - 1 && argc < ARRAY_SIZE(argv) - 1; i += strlen(copy + i) + 1) {
                argv[argc++] = copy + i;
                payload += strlen(copy + i) + 1;
        }
        argv[argc] = NULL;

        r = ctlproto_request_encode((int) argc, argv, json, &buf, &len);
        if (argc < 1 || argc > CTLPROTO_ARGS_MAX)
                FUZZ_CHECK(r == -EINVAL);
        else if (payload > CTLPROTO_REQUEST_MAX - CTLPROTO_HEADER_SIZE)
                FUZZ_CHECK(r == -EMSGSIZE);
        else
                FUZZ_CHECK(r == 0);
        if (r == 0) {
                FUZZ_CHECK(ctlproto_request_parse(buf, len, &req, &consumed) == 1);
                FUZZ_CHECK(consumed == len && req.json == json && (size_t) req.argc == argc);
                for (size_t i = 0; i < argc; i++)
                        FUZZ_CHECK(strcmp(req.argv[i], argv[i]) == 0);
                ctlproto_request_done(&req);
                free(buf);
        }
        free(copy);
}

/* The input as a response: status from the first byte, exit code from the
 * second, the rest the body. */
static void check_response_encode(const uint8_t *data, size_t size)
{
        struct ctlproto_response resp;
        size_t consumed = 0, len = 0;
        void *buf = NULL;
        int status, exit_code;

        if (size < 2)
                return;
        status = data[0] & 1;
        exit_code = data[1];
        FUZZ_CHECK(ctlproto_response_encode(status, exit_code, data + 2, size - 2, &buf, &len) == 0);
        FUZZ_CHECK(ctlproto_response_parse(buf, len, &resp, &consumed) == 1);
        FUZZ_CHECK(consumed == len && (int) resp.status == status && resp.exit_code == exit_code);
        FUZZ_CHECK(resp.body_len == size - 2 && memcmp(resp.body, data + 2, size - 2) == 0);
        free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        check_request_bytes(data, size);
        check_response_bytes(data, size);
        check_request_encode(data, size);
        check_response_encode(data, size);
        return 0;
}
