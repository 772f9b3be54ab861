/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The text a configuration may hold (utf8_valid_text): well-formed UTF-8
 * without control characters. Each malformed form RFC 3629 names is
 * refused at the byte where it starts; what the messages show of such
 * text (utf8_escape) is printable and never cut inside a character. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "base/utf8.h"

/* Refused, and at which byte offset. */
static void assert_refused_at(const char *s, bool allow_tab, size_t offset)
{
        size_t at = SIZE_MAX;

        if (utf8_valid_text(s, allow_tab, &at))
                fail_msg("accepted: %s", s);
        assert_int_equal(at, offset);
}

static void test_ascii_and_well_formed_multibyte_text_is_accepted(void **state)
{
        assert_true(utf8_valid_text("", false, NULL));
        assert_true(utf8_valid_text("vm.swappiness = 10 # why", false, NULL));
        assert_true(utf8_valid_text("caf\xc3\xa9", false, NULL));                 /* U+00E9 */
        assert_true(utf8_valid_text("\xc2\xa0", false, NULL));                    /* U+00A0, first after C1 */
        assert_true(utf8_valid_text("\xe2\x82\xac", false, NULL));                /* U+20AC */
        assert_true(utf8_valid_text("\xed\x9f\xbf", false, NULL));                /* U+D7FF, before the surrogates */
        assert_true(utf8_valid_text("\xee\x80\x80", false, NULL));                /* U+E000, after them */
        assert_true(utf8_valid_text("\xf0\x9f\x98\x80", false, NULL));            /* U+1F600 */
        assert_true(utf8_valid_text("\xf4\x8f\xbf\xbf", false, NULL));            /* U+10FFFF, the last */
}

static void test_bytes_that_never_start_utf8_are_refused(void **state)
{
        assert_refused_at("ab\xff", false, 2);
        assert_refused_at("\xfe", false, 0);
        assert_refused_at("x\xff\xfe", false, 1);
        assert_refused_at("\x80", false, 0);            /* a continuation byte alone */
        assert_refused_at("a\xbf", false, 1);
        assert_refused_at("\xf5\x80\x80\x80", false, 0); /* would be above U+10FFFF */
}

static void test_overlong_encodings_are_refused(void **state)
{
        assert_refused_at("\xc0\xaf", false, 0);         /* '/' in two bytes */
        assert_refused_at("\xc1\xbf", false, 0);
        assert_refused_at("a\xe0\x80\xaf", false, 1);    /* '/' in three */
        assert_refused_at("\xe0\x9f\xbf", false, 0);     /* U+07FF in three */
        assert_refused_at("\xf0\x80\x80\xaf", false, 0); /* '/' in four */
        assert_refused_at("\xf0\x8f\xbf\xbf", false, 0); /* U+FFFF in four */
}

static void test_surrogates_and_code_points_past_u10ffff_are_refused(void **state)
{
        assert_refused_at("\xed\xa0\x80", false, 0);     /* U+D800 */
        assert_refused_at("ok\xed\xbf\xbf", false, 2);   /* U+DFFF */
        assert_refused_at("\xed\xa0\xbd\xed\xb8\x80", false, 0); /* a CESU-8 pair */
        assert_refused_at("\xf4\x90\x80\x80", false, 0); /* U+110000 */
}

static void test_truncated_sequences_are_refused(void **state)
{
        assert_refused_at("\xc3", false, 0);
        assert_refused_at("ab\xe2\x82", false, 2);
        assert_refused_at("\xf0\x9f\x98", false, 0);
        assert_refused_at("\xe2\x82x", false, 0);        /* a third byte that is not a continuation */
        assert_refused_at("\xf0\x9f\x98\xc3\xa9", false, 0);
}

static void test_control_characters_are_refused_and_tab_only_where_allowed(void **state)
{
        assert_refused_at("a\x01z", true, 1);
        assert_refused_at("a\x1b[31m", true, 1);         /* an escape sequence for the terminal */
        assert_refused_at("del\x7f", true, 3);
        assert_refused_at("c1\xc2\x85", true, 2);        /* U+0085, NEL */
        assert_refused_at("c1\xc2\x9f", true, 2);        /* U+009F, the last C1 */
        assert_refused_at("cr\rx", true, 2);
        assert_refused_at("4096\t87380", false, 4);
        assert_true(utf8_valid_text("4096\t87380\t6291456", true, NULL));
}

static void test_escape_shows_bad_bytes_and_controls_as_hex_and_keeps_good_text(void **state)
{
        char buf[64];

        assert_string_equal(utf8_escape("vm.sw\xff\xfeppiness", buf, sizeof(buf)), "vm.sw\\xff\\xfeppiness");
        assert_string_equal(utf8_escape("caf\xc3\xa9\x01\\", buf, sizeof(buf)), "caf\xc3\xa9\\x01\\\\");
        assert_string_equal(utf8_escape("\xc2\x85", buf, sizeof(buf)), "\\xc2\\x85");
        assert_string_equal(utf8_escape("\xed\xa0\x80", buf, sizeof(buf)), "\\xed\\xa0\\x80");
        /* Cut to fit, never inside a character or an escape. */
        assert_string_equal(utf8_escape("ab\xc3\xa9", buf, 4), "ab");
        assert_string_equal(utf8_escape("a\xff", buf, 5), "a");
        assert_string_equal(utf8_escape("a\xff", buf, 6), "a\\xff");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ascii_and_well_formed_multibyte_text_is_accepted),
                cmocka_unit_test(test_bytes_that_never_start_utf8_are_refused),
                cmocka_unit_test(test_overlong_encodings_are_refused),
                cmocka_unit_test(test_surrogates_and_code_points_past_u10ffff_are_refused),
                cmocka_unit_test(test_truncated_sequences_are_refused),
                cmocka_unit_test(test_control_characters_are_refused_and_tab_only_where_allowed),
                cmocka_unit_test(test_escape_shows_bad_bytes_and_controls_as_hex_and_keeps_good_text),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
