/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket's wire format: round trips, and every malformed input
 * an error rather than a crash (ASan and UBSan watch the fuzz loops). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "daemon/ctlproto.h"
#include "base/util.h"

static void encode(int argc, char **argv, bool json, uint8_t **ret, size_t *ret_len)
{
        void *buf;

        assert_int_equal(ctlproto_request_encode(argc, argv, json, &buf, ret_len), 0);
        *ret = buf;
}

/* A header with arbitrary fields, for inputs the encoder would never make. */
static void raw_header(uint8_t h[CTLPROTO_HEADER_SIZE], const char *magic, uint8_t version, uint8_t flags,
                       uint16_t argc, uint32_t len)
{
        memcpy(h, magic, 4);
        h[4] = version;
        h[5] = flags;
        h[6] = (uint8_t) (argc >> 8);
        h[7] = (uint8_t) argc;
        h[8] = (uint8_t) (len >> 24);
        h[9] = (uint8_t) (len >> 16);
        h[10] = (uint8_t) (len >> 8);
        h[11] = (uint8_t) len;
}

static void test_request_round_trip_keeps_arguments_and_json_flag(void **state)
{
        char *argv[] = { "profile", "show", "virtual-host", "", NULL };
        _cleanup_free_ uint8_t *buf = NULL;
        struct ctlproto_request req;
        size_t len, used;

        encode(4, argv, true, &buf, &len);
        assert_int_equal(ctlproto_request_parse(buf, len, &req, &used), 1);
        assert_int_equal(used, len);
        assert_int_equal(req.argc, 4);
        assert_true(req.json);
        assert_string_equal(req.argv[0], "profile");
        assert_string_equal(req.argv[1], "show");
        assert_string_equal(req.argv[2], "virtual-host");
        assert_string_equal(req.argv[3], "");
        assert_null(req.argv[4]);
        ctlproto_request_done(&req);
        assert_null(req.argv);

        free(buf);
        buf = NULL;
        encode(1, argv, false, &buf, &len);
        assert_int_equal(ctlproto_request_parse(buf, len, &req, &used), 1);
        assert_false(req.json);
        assert_int_equal(req.argc, 1);
        ctlproto_request_done(&req);
}

static void test_request_is_incomplete_at_every_shorter_prefix(void **state)
{
        char *argv[] = { "verify", "--all", NULL };
        _cleanup_free_ uint8_t *buf = NULL;
        struct ctlproto_request req;
        size_t len, used;

        encode(2, argv, false, &buf, &len);
        for (size_t n = 0; n < len; n++)
                assert_int_equal(ctlproto_request_parse(buf, n, &req, &used), 0);
}

static void test_request_parse_consumes_only_its_own_bytes(void **state)
{
        char *argv[] = { "status", NULL };
        _cleanup_free_ uint8_t *buf = NULL;
        uint8_t more[64];
        struct ctlproto_request req;
        size_t len, used;

        encode(1, argv, false, &buf, &len);
        assert_true(len + 10 <= sizeof(more));
        memcpy(more, buf, len);
        memset(more + len, 'x', 10);
        assert_int_equal(ctlproto_request_parse(more, len + 10, &req, &used), 1);
        assert_int_equal(used, len);
        assert_int_equal(req.argc, 1);
        ctlproto_request_done(&req);
}

static void test_request_with_wrong_magic_is_rejected_from_the_first_byte(void **state)
{
        char *argv[] = { "status", NULL };
        _cleanup_free_ uint8_t *buf = NULL;
        struct ctlproto_request req;
        size_t len, used;

        encode(1, argv, false, &buf, &len);
        buf[0] = 'G'; /* "GET / HTTP/1.1" */
        assert_int_equal(ctlproto_request_parse(buf, 1, &req, &used), -EBADMSG);
        assert_int_equal(ctlproto_request_parse(buf, len, &req, &used), -EBADMSG);
        /* A response is not a request. */
        memcpy(buf, "VMTR", 4);
        assert_int_equal(ctlproto_request_parse(buf, len, &req, &used), -EBADMSG);
}

static void test_other_version_is_told_apart_from_garbage(void **state)
{
        char *argv[] = { "status", NULL };
        _cleanup_free_ uint8_t *buf = NULL;
        struct ctlproto_request req;
        size_t len, used;

        encode(1, argv, false, &buf, &len);
        assert_int_equal(ctlproto_peek_version(buf, len), CTLPROTO_VERSION);
        buf[4] = CTLPROTO_VERSION + 1;
        assert_int_equal(ctlproto_request_parse(buf, len, &req, &used), -EPROTONOSUPPORT);
        assert_int_equal(ctlproto_peek_version(buf, len), CTLPROTO_VERSION + 1);
        /* Knowable from five bytes, before the rest of a newer header. */
        assert_int_equal(ctlproto_request_parse(buf, 5, &req, &used), -EPROTONOSUPPORT);
        assert_int_equal(ctlproto_peek_version(buf, 4), -EAGAIN);
        assert_int_equal(ctlproto_peek_version("HTTP/", 5), -EBADMSG);
}

static void test_oversize_request_is_rejected_from_its_header(void **state)
{
        uint8_t h[CTLPROTO_HEADER_SIZE];
        struct ctlproto_request req;
        size_t used;

        raw_header(h, "VMTC", CTLPROTO_VERSION, 0, 1, CTLPROTO_REQUEST_MAX - CTLPROTO_HEADER_SIZE + 1);
        assert_int_equal(ctlproto_request_parse(h, sizeof(h), &req, &used), -EMSGSIZE);
        raw_header(h, "VMTC", CTLPROTO_VERSION, 0, 1, UINT32_MAX);
        assert_int_equal(ctlproto_request_parse(h, sizeof(h), &req, &used), -EMSGSIZE);
        /* The largest allowed size still waits for its payload. */
        raw_header(h, "VMTC", CTLPROTO_VERSION, 0, 1, CTLPROTO_REQUEST_MAX - CTLPROTO_HEADER_SIZE);
        assert_int_equal(ctlproto_request_parse(h, sizeof(h), &req, &used), 0);
}

static void test_encoder_refuses_what_the_decoder_would_reject(void **state)
{
        _cleanup_free_ char *big = xcalloc(1, CTLPROTO_REQUEST_MAX);
        char *argv[CTLPROTO_ARGS_MAX + 2];
        void *buf = NULL;
        size_t len;

        memset(big, 'a', CTLPROTO_REQUEST_MAX - 1);
        argv[0] = big;
        argv[1] = NULL;
        assert_int_equal(ctlproto_request_encode(1, argv, false, &buf, &len), -EMSGSIZE);
        assert_int_equal(ctlproto_request_encode(0, argv, false, &buf, &len), -EINVAL);
        for (size_t i = 0; i < ARRAY_SIZE(argv); i++)
                argv[i] = "x";
        assert_int_equal(ctlproto_request_encode(CTLPROTO_ARGS_MAX + 1, argv, false, &buf, &len), -EINVAL);
        assert_null(buf);

        /* Exactly at the limit is fine and parses back. */
        big[CTLPROTO_REQUEST_MAX - CTLPROTO_HEADER_SIZE - 1] = '\0';
        argv[0] = big;
        assert_int_equal(ctlproto_request_encode(1, argv, false, &buf, &len), 0);
        assert_int_equal(len, CTLPROTO_REQUEST_MAX);
        struct ctlproto_request req;
        size_t used;
        assert_int_equal(ctlproto_request_parse(buf, len, &req, &used), 1);
        assert_string_equal(req.argv[0], big);
        ctlproto_request_done(&req);
        free(buf);
}

/* A header with payload "a\0b\0" and the given argc. */
static int parse_with_argc(uint16_t argc, const char *payload, uint32_t payload_len)
{
        uint8_t buf[64];
        struct ctlproto_request req;
        size_t used;
        int r;

        raw_header(buf, "VMTC", CTLPROTO_VERSION, 0, argc, payload_len);
        memcpy(buf + CTLPROTO_HEADER_SIZE, payload, payload_len);
        r = ctlproto_request_parse(buf, CTLPROTO_HEADER_SIZE + payload_len, &req, &used);
        if (r > 0)
                ctlproto_request_done(&req);
        return r;
}

static void test_argc_that_lies_about_the_payload_is_rejected(void **state)
{
        assert_int_equal(parse_with_argc(2, "a\0b", 4), 1);
        assert_int_equal(parse_with_argc(3, "a\0b", 4), -EBADMSG);  /* more than there are */
        assert_int_equal(parse_with_argc(1, "a\0b", 4), -EBADMSG);  /* fewer than there are */
        assert_int_equal(parse_with_argc(0, "a\0b", 4), -EBADMSG);  /* no command at all */
        assert_int_equal(parse_with_argc(2, "a\0bc", 4), -EBADMSG); /* last one not terminated */
        assert_int_equal(parse_with_argc(5, "", 0), -EBADMSG);      /* argc > payload: known from the header */
        assert_int_equal(parse_with_argc(CTLPROTO_ARGS_MAX + 1, "a\0b", 4), -EBADMSG);
}

static void test_unknown_request_flags_are_rejected(void **state)
{
        uint8_t buf[CTLPROTO_HEADER_SIZE + 2];
        struct ctlproto_request req;
        size_t used;

        raw_header(buf, "VMTC", CTLPROTO_VERSION, 0x80, 1, 2);
        memcpy(buf + CTLPROTO_HEADER_SIZE, "a", 2);
        assert_int_equal(ctlproto_request_parse(buf, sizeof(buf), &req, &used), -EBADMSG);
}

static void test_response_round_trip_keeps_binary_body_status_and_exit_code(void **state)
{
        static const char body[] = "node0\0node1\n";
        struct ctlproto_response resp;
        void *buf;
        size_t len, used;

        assert_int_equal(ctlproto_response_encode(CTLPROTO_STATUS_REPLY, 1, body, sizeof(body), &buf, &len), 0);
        assert_int_equal(ctlproto_response_parse(buf, len, &resp, &used), 1);
        assert_int_equal(used, len);
        assert_int_equal(resp.status, CTLPROTO_STATUS_REPLY);
        assert_int_equal(resp.exit_code, 1);
        assert_int_equal(resp.body_len, sizeof(body));
        assert_memory_equal(resp.body, body, sizeof(body));
        for (size_t n = 0; n < len; n++)
                assert_int_equal(ctlproto_response_parse(buf, n, &resp, &used), 0);
        free(buf);

        assert_int_equal(ctlproto_response_encode(CTLPROTO_STATUS_ERROR, 4, NULL, 0, &buf, &len), 0);
        assert_int_equal(ctlproto_response_parse(buf, len, &resp, &used), 1);
        assert_int_equal(resp.status, CTLPROTO_STATUS_ERROR);
        assert_int_equal(resp.exit_code, 4);
        assert_int_equal(resp.body_len, 0);
        free(buf);
}

static void test_malformed_responses_are_errors(void **state)
{
        uint8_t h[CTLPROTO_HEADER_SIZE];
        struct ctlproto_response resp;
        void *buf = NULL;
        size_t len, used;

        raw_header(h, "VMTR", CTLPROTO_VERSION, 7, 0, 0);    /* unknown status */
        assert_int_equal(ctlproto_response_parse(h, sizeof(h), &resp, &used), -EBADMSG);
        raw_header(h, "VMTR", CTLPROTO_VERSION, 0, 0x0001, 0); /* reserved byte set */
        assert_int_equal(ctlproto_response_parse(h, sizeof(h), &resp, &used), -EBADMSG);
        raw_header(h, "VMTR", CTLPROTO_VERSION, 0, 0, UINT32_MAX);
        assert_int_equal(ctlproto_response_parse(h, sizeof(h), &resp, &used), -EMSGSIZE);
        raw_header(h, "VMTC", CTLPROTO_VERSION, 0, 0, 0);    /* a request */
        assert_int_equal(ctlproto_response_parse(h, sizeof(h), &resp, &used), -EBADMSG);
        raw_header(h, "VMTR", CTLPROTO_VERSION + 1, 0, 0, 0);
        assert_int_equal(ctlproto_response_parse(h, sizeof(h), &resp, &used), -EPROTONOSUPPORT);

        assert_int_equal(ctlproto_response_encode(CTLPROTO_STATUS_REPLY, 256, "", 0, &buf, &len), -EINVAL);
        assert_int_equal(ctlproto_response_encode(CTLPROTO_STATUS_REPLY, -1, "", 0, &buf, &len), -EINVAL);
        assert_int_equal(ctlproto_response_encode(CTLPROTO_STATUS_REPLY, 0, NULL, 3, &buf, &len), -EINVAL);
        assert_null(buf);
}

/* A parse that says "complete" must hand out a consistent argv. */
static void check_parse_is_safe(const uint8_t *buf, size_t len)
{
        struct ctlproto_request req;
        struct ctlproto_response resp;
        size_t used;

        if (ctlproto_request_parse(buf, len, &req, &used) == 1) {
                assert_true(used <= len);
                assert_true(req.argc >= 1);
                for (int i = 0; i < req.argc; i++)
                        assert_non_null(req.argv[i]);
                assert_null(req.argv[req.argc]);
                ctlproto_request_done(&req);
        }
        if (ctlproto_response_parse(buf, len, &resp, &used) == 1)
                assert_true(used <= len && resp.body_len == used - CTLPROTO_HEADER_SIZE);
        (void) ctlproto_peek_version(buf, len);
}

static void test_every_single_byte_corruption_parses_without_crashing(void **state)
{
        static const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff };
        char *argv[] = { "profile", "show", "x", NULL };
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;

        encode(3, argv, true, &buf, &len);
        for (size_t i = 0; i < len; i++) {
                uint8_t saved = buf[i];
                for (size_t v = 0; v < ARRAY_SIZE(values); v++) {
                        buf[i] = values[v];
                        /* A heap copy of exactly len bytes, so ASan sees any overread. */
                        _cleanup_free_ uint8_t *copy = xcalloc(1, len);
                        memcpy(copy, buf, len);
                        for (size_t n = 0; n <= len; n++)
                                check_parse_is_safe(copy, n);
                }
                buf[i] = saved;
        }
}

static void test_random_garbage_parses_without_crashing(void **state)
{
        uint32_t x = 12345;

        for (int round = 0; round < 2000; round++) {
                size_t len = round % 64;
                _cleanup_free_ uint8_t *buf = xcalloc(1, len ? len : 1);

                for (size_t i = 0; i < len; i++) {
                        x = x * 1103515245u + 12345u;
                        buf[i] = (uint8_t) (x >> 16);
                }
                /* Give half of them a valid start, to get past the magic. */
                if (round % 2 && len >= 5)
                        memcpy(buf, round % 4 == 1 ? "VMTC\x01" : "VMTR\x01", 5);
                check_parse_is_safe(buf, len);
        }
}

static void test_socket_path_must_fit_sun_path(void **state)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *longdir = xcalloc(1, 200);
        char *other = NULL;

        assert_int_equal(ctlproto_socket_path("/run/vmtuned", &path), 0);
        assert_string_equal(path, "/run/vmtuned/vmtuned.sock");
        memset(longdir, 'd', 150);
        assert_int_equal(ctlproto_socket_path(longdir, &other), -ENAMETOOLONG);
        assert_null(other);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_round_trip_keeps_arguments_and_json_flag),
                cmocka_unit_test(test_request_is_incomplete_at_every_shorter_prefix),
                cmocka_unit_test(test_request_parse_consumes_only_its_own_bytes),
                cmocka_unit_test(test_request_with_wrong_magic_is_rejected_from_the_first_byte),
                cmocka_unit_test(test_other_version_is_told_apart_from_garbage),
                cmocka_unit_test(test_oversize_request_is_rejected_from_its_header),
                cmocka_unit_test(test_encoder_refuses_what_the_decoder_would_reject),
                cmocka_unit_test(test_argc_that_lies_about_the_payload_is_rejected),
                cmocka_unit_test(test_unknown_request_flags_are_rejected),
                cmocka_unit_test(test_response_round_trip_keeps_binary_body_status_and_exit_code),
                cmocka_unit_test(test_malformed_responses_are_errors),
                cmocka_unit_test(test_every_single_byte_corruption_parses_without_crashing),
                cmocka_unit_test(test_random_garbage_parses_without_crashing),
                cmocka_unit_test(test_socket_path_must_fit_sun_path),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
