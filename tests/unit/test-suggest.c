/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "Did you mean ...?" (suggest_nearest): the nearest existing name one or
 * two edits away, a swap of neighbours counting as one edit; nothing for
 * names further off, for very short ones, or for a name that exists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/suggest.h"
#include "base/util.h"

static const char *const vm_keys[] = {
        "vm.dirty_background_ratio", "vm.dirty_ratio", "vm.max_map_count", "vm.min_free_kbytes",
        "vm.swappiness", "vm.watermark_scale_factor", "vm.zone_reclaim_mode",
};

static void test_distance_counts_insertions_deletions_substitutions_and_swaps(void **state)
{
        assert_int_equal(suggest_distance("vm.swappiness", "vm.swappiness", 2), 0);
        assert_int_equal(suggest_distance("vm.swapiness", "vm.swappiness", 2), 1);   /* insertion */
        assert_int_equal(suggest_distance("vm.swappinesss", "vm.swappiness", 2), 1); /* deletion */
        assert_int_equal(suggest_distance("vm.swoppiness", "vm.swappiness", 2), 1);  /* substitution */
        assert_int_equal(suggest_distance("vm.swpapiness", "vm.swappiness", 2), 1);  /* swap */
        assert_int_equal(suggest_distance("vm.wsapiness", "vm.swappiness", 2), 2);   /* swap + insertion */
        assert_int_equal(suggest_distance("", "ab", 2), 2);
        assert_int_equal(suggest_distance("ab", "", 2), 2);
        /* Optimal string alignment: "ca" -> "abc" is 3, not Damerau's 2. */
        assert_int_equal(suggest_distance("ca", "abc", 5), 3);
}

static void test_distance_past_max_is_max_plus_one(void **state)
{
        assert_int_equal(suggest_distance("vm.dirty_ratio", "vm.swappiness", 2), 3);
        assert_int_equal(suggest_distance("a", "abcdef", 2), 3);   /* lengths alone tell */
        assert_int_equal(suggest_distance("abcd", "wxyz", 1), 2);  /* the first row over max stops */
}

static void test_nearest_suggests_the_key_one_or_two_edits_away(void **state)
{
        assert_string_equal(suggest_nearest("vm.swapiness", vm_keys, ARRAY_SIZE(vm_keys)), "vm.swappiness");
        assert_string_equal(suggest_nearest("vm.swapinness", vm_keys, ARRAY_SIZE(vm_keys)), "vm.swappiness");
        assert_string_equal(suggest_nearest("vm.dirty_raito", vm_keys, ARRAY_SIZE(vm_keys)), "vm.dirty_ratio");
        assert_string_equal(suggest_nearest("vm.max_mapcount", vm_keys, ARRAY_SIZE(vm_keys)), "vm.max_map_count");
}

static void test_nearest_suggests_nothing_three_edits_away_or_for_an_existing_key(void **state)
{
        assert_null(suggest_nearest("vm.swapinesss_", vm_keys, ARRAY_SIZE(vm_keys)));
        assert_null(suggest_nearest("vm.no_such_knob", vm_keys, ARRAY_SIZE(vm_keys)));
        assert_null(suggest_nearest("vm.swappiness", vm_keys, ARRAY_SIZE(vm_keys)));
        assert_null(suggest_nearest("vm.swapiness", vm_keys, 0));
}

static void test_nearest_needs_more_of_a_short_name_left_than_it_edits(void **state)
{
        static const char *const short_keys[] = { "kernel.ab", "kernel.xy", "kernel.abcd" };

        /* "x" -> "xy" is one edit, but of a one-letter name nothing is left. */
        assert_null(suggest_nearest("kernel.x", short_keys, ARRAY_SIZE(short_keys)));
        /* "a" -> "ab": the same. "abdc" -> "abcd": one swap, in four letters. */
        assert_null(suggest_nearest("kernel.a", short_keys, ARRAY_SIZE(short_keys)));
        assert_string_equal(suggest_nearest("kernel.abdc", short_keys, ARRAY_SIZE(short_keys)), "kernel.abcd");
        /* Two letters: one edit at most ("yx" -> "xy" is a swap). */
        assert_string_equal(suggest_nearest("kernel.yx", short_keys, ARRAY_SIZE(short_keys)), "kernel.xy");
        assert_null(suggest_nearest("kernel.zz", short_keys, ARRAY_SIZE(short_keys)));
}

static void test_nearest_takes_the_fewest_edits_then_the_first_name(void **state)
{
        static const char *const keys[] = { "net.core.rmem_max", "net.core.rmem_mix", "net.core.wmem_max" };
        static const char *const reversed[] = { "net.core.wmem_max", "net.core.rmem_mix", "net.core.rmem_max" };

        /* One edit from rmem_max beats two from the others. */
        assert_string_equal(suggest_nearest("net.core.rmem_ma", keys, ARRAY_SIZE(keys)), "net.core.rmem_max");
        /* A tie (one edit from rmem_max and wmem_max): the first in strcmp
         * order, whatever order the directory listed them in. */
        assert_string_equal(suggest_nearest("net.core.xmem_max", keys, ARRAY_SIZE(keys)), "net.core.rmem_max");
        assert_string_equal(suggest_nearest("net.core.xmem_max", reversed, ARRAY_SIZE(reversed)), "net.core.rmem_max");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_distance_counts_insertions_deletions_substitutions_and_swaps),
                cmocka_unit_test(test_distance_past_max_is_max_plus_one),
                cmocka_unit_test(test_nearest_suggests_the_key_one_or_two_edits_away),
                cmocka_unit_test(test_nearest_suggests_nothing_three_edits_away_or_for_an_existing_key),
                cmocka_unit_test(test_nearest_needs_more_of_a_short_name_left_than_it_edits),
                cmocka_unit_test(test_nearest_takes_the_fewest_edits_then_the_first_name),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
