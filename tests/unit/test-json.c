/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one JSON string writer: whatever bytes a domain name, a profile or a
 * reason holds, what comes out is one valid JSON string (RFC 8259) in valid
 * UTF-8. Names come from libvirt and files, so any byte can be in them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <iconv.h>
#include <stdbool.h>
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

/* Is text well-formed UTF-8? glibc's decoder answers (it refuses
 * overlongs, surrogates and code points above U+10FFFF), not ours. */
static bool utf8_valid(const char *text)
{
        iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
        size_t in_left = strlen(text), out_left = 4 * in_left + 4, r;
        char *in = (char *) text, *out_buf = malloc(out_left), *out = out_buf;

        assert_true(cd != (iconv_t) -1 && out_buf);
        r = iconv(cd, &in, &in_left, &out, &out_left);
        iconv_close(cd);
        free(out_buf);
        return r != (size_t) -1 && in_left == 0;
}

/* One JSON string and nothing else (RFC 8259, 7), in valid UTF-8, with no
 * raw control character: checked independently of the writer. */
static void assert_valid_json_string(const char *text)
{
        const unsigned char *p = (const unsigned char *) text;

        if (!utf8_valid(text))
                fail_msg("not UTF-8: %s", text);
        if (*p++ != '"')
                fail_msg("does not start with a quote: %s", text);
        for (; *p != '"'; p++) {
                if (*p < 0x20)
                        fail_msg("raw control byte 0x%02x or no closing quote in %s", *p, text);
                if (*p != '\\')
                        continue;
                p++;
                if (*p == 'u' && strspn((const char *) p + 1, "0123456789abcdefABCDEF") >= 4)
                        p += 4;
                else if (!*p || !strchr("\"\\/bfnrt", *p))
                        fail_msg("bad escape in %s", text);
        }
        if (p[1] != 0)
                fail_msg("text after the closing quote: %s", text);
}

static void test_the_checks_own_utf8_oracle_refuses_what_parsers_refuse(void **state)
{
        assert_true(utf8_valid("caf\xc3\xa9 \xf4\x8f\xbf\xbf"));
        assert_false(utf8_valid("\xff"));
        assert_false(utf8_valid("\xc0\xaf"));
        assert_false(utf8_valid("\xed\xa0\x80"));
        assert_false(utf8_valid("\xf4\x90\x80\x80"));
        assert_false(utf8_valid("\xe2\x82"));
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

/* Issue 17: the contract's pieces. Every answer opens with the version,
 * an error is the whole answer, and a source has one shape. */
static void test_open_error_and_source_have_the_contracts_shape(void **state)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);

        assert_non_null(f);
        json_print_open(f);
        fputs("}|", f);
        json_print_error(f, "no \"such\" thing");
        fputc('|', f);
        json_print_source(f, "/etc/vmtuned.conf", 0);
        fputc('|', f);
        json_print_source(f, "/p/a\\b.conf", 7);
        fputc('|', f);
        json_print_source(f, NULL, 3);
        assert_int_equal(fclose(f), 0);
        assert_string_equal(buf, "{\"version\":1}|{\"version\":1,\"error\":\"no \\\"such\\\" thing\"}\n|"
                                 "{\"file\":\"/etc/vmtuned.conf\",\"line\":null}|"
                                 "{\"file\":\"/p/a\\\\b.conf\",\"line\":7}|null");
        free(buf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_checks_own_utf8_oracle_refuses_what_parsers_refuse),
                cmocka_unit_test(test_quotes_and_backslashes_are_escaped),
                cmocka_unit_test(test_null_is_json_null),
                cmocka_unit_test(test_control_characters_are_unicode_escapes),
                cmocka_unit_test(test_valid_utf8_passes_unchanged),
                cmocka_unit_test(test_invalid_utf8_becomes_replacement_characters),
                cmocka_unit_test(test_every_short_byte_string_comes_out_as_valid_json),
                cmocka_unit_test(test_open_error_and_source_have_the_contracts_shape),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
