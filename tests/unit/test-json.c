/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one JSON string writer: whatever bytes a domain name, a profile or a
 * reason holds, what comes out is one valid JSON string (RFC 8259) in valid
 * UTF-8. Names come from libvirt and files, so any byte can be in them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"

static char *written(const char *s)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        json_print_string(f, s);
        assert_int_equal(fclose(f), 0);
        return buf;
}

static void assert_written(const char *in, const char *want)
{
        char *got = written(in);

        if (strcmp(got, want) != 0)
                fail_msg("json_print_string: got %s, want %s", got, want);
        free(got);
}

/* Length of the valid UTF-8 sequence at p (RFC 3629 table), 0 if none. */
static size_t utf8_valid_at(const unsigned char *p)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4;
        else
                return 0;
        if (p[0] == 0xe0)
                lo = 0xa0;
        if (p[0] == 0xed)
                hi = 0x9f;
        if (p[0] == 0xf0)
                lo = 0x90;
        if (p[0] == 0xf4)
                hi = 0x8f;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return n;
}

/* One JSON string and nothing else, in valid UTF-8, with no raw control
 * character: checked independently of the writer. */
static void assert_valid_json_string(const char *text)
{
        const unsigned char *p = (const unsigned char *) text;

        if (*p++ != '"')
                fail_msg("does not start with a quote: %s", text);
        while (*p != '"') {
                size_t n;

                if (*p == 0 || *p < 0x20)
                        fail_msg("raw control byte 0x%02x or no closing quote in %s", *p, text);
                if (*p == '\\') {
                        p++;
                        if (*p == 'u') {
                                for (int i = 1; i <= 4; i++)
                                        if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
                                                fail_msg("bad \\u escape in %s", text);
                                p += 5;
                        } else if (*p && strchr("\"\\/bfnrt", *p)) {
                                p++;
                        } else {
                                fail_msg("bad escape in %s", text);
                        }
                        continue;
                }
                n = utf8_valid_at(p);
                if (n == 0)
                        fail_msg("invalid UTF-8 at offset %ld of %s", (long) (p - (const unsigned char *) text),
                                 text);
                p += n;
        }
        if (p[1] != 0)
                fail_msg("text after the closing quote: %s", text);
}

static void test_quotes_and_backslashes_are_escaped(void **state)
{
        assert_written("web\"01", "\"web\\\"01\"");
        assert_written("a\\b", "\"a\\\\b\"");
        assert_written("\"\\\"", "\"\\\"\\\\\\\"\"");
        assert_written("", "\"\"");
}

static void test_null_is_json_null(void **state)
{
        assert_written(NULL, "null");
}

static void test_control_characters_are_unicode_escapes(void **state)
{
        assert_written("a\nb\tc\x01\x1f\x7f", "\"a\\u000ab\\u0009c\\u0001\\u001f\\u007f\"");
}

static void test_valid_utf8_passes_unchanged(void **state)
{
        /* é (2 bytes), € (3), U+10FFFF and 𝄞 (4): the edges of each length too */
        assert_written("caf\xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf \xf0\x9d\x84\x9e \xc2\x80 \xef\xbf\xbf",
                       "\"caf\xc3\xa9 \xe2\x82\xac \xf4\x8f\xbf\xbf \xf0\x9d\x84\x9e \xc2\x80 \xef\xbf\xbf\"");
}

/* Each maximal invalid subpart becomes one U+FFFD (Unicode 15, 3.9 "U+FFFD
 * substitution of maximal subparts"); what follows is read afresh. */
static void test_invalid_utf8_becomes_replacement_characters(void **state)
{
        assert_written("a\xff" "b", "\"a\\ufffdb\"");                       /* never a UTF-8 byte */
        assert_written("\x80x", "\"\\ufffdx\"");                            /* stray continuation */
        assert_written("\xe2\x82", "\"\\ufffd\"");                          /* cut at the end */
        assert_written("\xe2\x82x", "\"\\ufffdx\"");                        /* cut in the middle */
        assert_written("\xc0\xaf", "\"\\ufffd\\ufffd\"");                   /* overlong '/' */
        assert_written("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");        /* overlong, 3 bytes */
        assert_written("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");        /* a UTF-16 surrogate */
        assert_written("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
        assert_written("\xf0\x9d\x84\"", "\"\\ufffd\\\"\"");                 /* cut by a quote */
        assert_written("\xc3\xa9\xc3", "\"\xc3\xa9\\ufffd\"");
}

/* Every string of up to three bytes drawn from the bytes that matter (the
 * edges of each UTF-8 range, quote, backslash, controls) comes out valid. */
static void test_every_short_byte_string_comes_out_as_valid_json(void **state)
{
        static const unsigned char bytes[] = {
                0x01, 0x09, 0x0a, 0x1f, 0x20, '"', '\\', 'a', 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
        };
        const size_t n = sizeof(bytes);

        for (size_t a = 0; a < n; a++)
                for (size_t b = 0; b <= n; b++)
                        for (size_t c = 0; c <= n; c++) {
                                char in[4] = { (char) bytes[a], b < n ? (char) bytes[b] : 0,
                                               b < n && c < n ? (char) bytes[c] : 0, 0 };
                                char *out = written(in);

                                assert_valid_json_string(out);
                                free(out);
                        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
                cmocka_unit_test(test_null_is_json_null),
                cmocka_unit_test(test_control_characters_are_unicode_escapes),
                cmocka_unit_test(test_valid_utf8_passes_unchanged),
                cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
                cmocka_unit_test(test_every_short_byte_string_comes_out_as_valid_json),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
