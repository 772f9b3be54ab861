/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bitmap: sets of CPUs and nodes, and the kernel's cpulist form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/bitmap.h"
#include "base/util.h"

static char *list_roundtrip(const char *in)
{
        struct bitmap b = { 0 };
        char *out;

        assert_int_equal(bitmap_parse_list(in, &b), 0);
        out = bitmap_format_list(&b);
        bitmap_done(&b);
        return out;
}

static void test_cpulist_parses_ranges_and_single_cpus(void **state)
{
        struct bitmap b = { 0 };
        const unsigned members[] = { 0, 1, 2, 3, 8, 10, 11 };

        assert_int_equal(bitmap_parse_list("0-3,8,10-11", &b), 0);
        assert_int_equal(bitmap_count(&b), ARRAY_SIZE(members));
        for (size_t i = 0; i < ARRAY_SIZE(members); i++)
                assert_true(bitmap_test(&b, members[i]));
        assert_false(bitmap_test(&b, 4));
        assert_false(bitmap_test(&b, 9));
        assert_false(bitmap_test(&b, 12));
        assert_false(bitmap_test(&b, 1000));
        assert_int_equal(bitmap_size(&b), 12);
        bitmap_done(&b);
}

static void test_cpulist_formats_back_in_the_kernels_shortest_form(void **state)
{
        _cleanup_free_ char *a = list_roundtrip("0-3,8,10-11");
        _cleanup_free_ char *b = list_roundtrip("5,0,1,2,7,8\n");
        _cleanup_free_ char *c = list_roundtrip("63-65,127");
        _cleanup_free_ char *d = list_roundtrip(" 4 ");

        assert_string_equal(a, "0-3,8,10-11");
        assert_string_equal(b, "0-2,5,7-8");
        assert_string_equal(c, "63-65,127"); /* across a word boundary */
        assert_string_equal(d, "4");
}

static void test_cpulist_empty_string_is_the_empty_set(void **state)
{
        _cleanup_free_ char *a = list_roundtrip("");
        _cleanup_free_ char *b = list_roundtrip("\n");
        struct bitmap empty = { 0 };

        assert_string_equal(a, "");
        assert_string_equal(b, "");
        assert_int_equal(bitmap_count(&empty), 0);
        assert_int_equal(bitmap_size(&empty), 0);
}

static void test_cpulist_rejects_malformed_lists(void **state)
{
        static const char *const bad[] = { "1-", "-1", "a", "3-1", "1,,2", ",1", "1,", "1 2", "0-3:2", "1;2" };
        struct bitmap b = { 0 };

        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_int_equal(bitmap_parse_list(bad[i], &b), -EINVAL);
                assert_null(b.words); /* untouched on error */
        }
        assert_int_equal(bitmap_parse_list("70000", &b), -ERANGE);
        assert_int_equal(bitmap_parse_list("0-99999999999999999999", &b), -ERANGE);
}

static void test_bitmap_or_intersects_and_equal_ignore_word_counts(void **state)
{
        struct bitmap a = { 0 }, b = { 0 }, c = { 0 };
        _cleanup_free_ char *u = NULL;

        assert_int_equal(bitmap_parse_list("0-1", &a), 0);
        assert_int_equal(bitmap_parse_list("2-3,200", &b), 0);
        assert_false(bitmap_intersects(&a, &b));
        bitmap_or(&a, &b);
        u = bitmap_format_list(&a);
        assert_string_equal(u, "0-3,200");
        assert_true(bitmap_intersects(&a, &b));

        /* Same members, different allocation sizes. */
        bitmap_done(&b);
        assert_int_equal(bitmap_parse_list("1", &b), 0);
        bitmap_set(&c, 1);
        bitmap_set(&c, 300);
        assert_false(bitmap_equal(&b, &c));
        bitmap_done(&c);
        bitmap_set(&c, 130); /* three words... */
        c.words[2] = 0;      /* ...the last of them zero */
        bitmap_set(&c, 1);
        assert_true(bitmap_equal(&b, &c));
        assert_true(bitmap_equal(&c, &b));
        bitmap_done(&a);
        bitmap_done(&b);
        bitmap_done(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cpulist_parses_ranges_and_single_cpus),
                cmocka_unit_test(test_cpulist_formats_back_in_the_kernels_shortest_form),
                cmocka_unit_test(test_cpulist_empty_string_is_the_empty_set),
                cmocka_unit_test(test_cpulist_rejects_malformed_lists),
                cmocka_unit_test(test_bitmap_or_intersects_and_equal_ignore_word_counts),
        };
        return cmocka_run_group_tests_name("bitmap", tests, NULL, NULL);
}
