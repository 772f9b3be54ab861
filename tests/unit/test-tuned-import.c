/* SPDX-License-Identifier: GPL-2.0-or-later */
/* import-tuned's conversion (config/tuned-parse.c) on a tuned.conf that
 * has every case: what vmtuned's validator accepts is carried over by
 * name, everything else is a "#- " line under the reason, and no line of
 * the result is one the INI reader would refuse for its length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "config/tuned-import.h"
#include "testlib.h"

static void assert_contains(const char *text, const char *want)
{
        if (!strstr(text, want))
                fail_msg("\"%s\" not in:\n%s", want, text);
}

static void assert_lacks(const char *text, const char *unwanted)
{
        if (strstr(text, unwanted))
                fail_msg("\"%s\" in:\n%s", unwanted, text);
}

static void test_every_case_is_carried_over_or_commented_with_why(void **state)
{
        char *conf = tl_read(tl_srcdir(), "tests/fixtures/tuned/everything/tuned.conf");
        char *out;

        assert_non_null(conf);
        out = tuned_import("everything", conf);
        assert_contains(out, "# Converted from tuned's profile everything by vmtunectl import-tuned.\n");
        assert_contains(out, "[main]\nsummary=Every case of the converter\n");
        assert_contains(out, "names: convert them too, or vmtuned's own profile of that name is used\n"
                             "include=throughput-performance\n");
        assert_contains(out, "# not carried over: [main] recommend is tuned's own option\n#- recommend=no\n");
        assert_contains(out, "# [variables] is not carried over: it defines tuned variables: vmtuned has no ${} "
                             "expansion\n#- isolated_cores=2-3\n");
        /* Settings: the valid ones by name, the rest with the validator's word. */
        assert_contains(out, "[sysctl]\nvm.swappiness=5\n");
        assert_contains(out, "# not carried over: uses a tuned variable: vmtuned has no ${} expansion\n"
                             "#- [sysctl] kernel.sched_min_granularity_ns=${f:cpulist2hex:${isolated_cores}}\n");
        assert_contains(out, "# not carried over: [sysctl] vm.no/such: invalid sysctl key");
        assert_contains(out, "[vm]\ntransparent_hugepages=never\n");
        assert_contains(out, "[disk]\ndevices=sd*\n");
        assert_contains(out, "# not carried over: priority= says how tuned runs its plugin, not a value to set\n"
                             "#- [disk] priority=10\n");
        assert_contains(out, "# [script] is not carried over: it runs a shell script: vmtuned runs no scripts\n");
        assert_contains(out, "# [bootloader] is not carried over: it edits the kernel command line");
        assert_contains(out, "#- cmdline=isolcpus=${isolated_cores}\n");
        assert_contains(out, "# [sysctl.aarch64] is not carried over: it applies only where "
                             "uname_regex=/cpuinfo_regex= match");
        assert_contains(out, "#- kernel.numa_balancing=0\n");
        assert_contains(out, "#- [mystery] (not key=value)=a line without an equals sign\n");
        assert_contains(out, "# [mystery]: nothing carried over, so no section\n");
        assert_lacks(out, "\n[script]");
        assert_lacks(out, "\n[mystery]");
        assert_lacks(out, "\nkernel.numa_balancing");
        for (const char *l = out; *l; l += strcspn(l, "\n") + 1)
                assert_true(strcspn(l, "\n") < 200);
        free(out);
        free(conf);
}

static void test_long_values_and_empty_input_stay_valid(void **state)
{
        /* The section name too (found by the fuzz target). */
        char *long_conf = xasprintf("[sysctl]\nvm.swappiness=%0300d\n[variables]\nx=%0500d\n[s%0300d]\nk=v\n"
                                    "[t%0300d]\n", 1, 2, 3, 4);
        char *out = tuned_import("long", long_conf);

        assert_contains(out, "# not carried over: longer than a line of a vmtuned profile\n");
        for (const char *l = out; *l; l += strcspn(l, "\n") + 1)
                assert_true(strcspn(l, "\n") < 200);
        free(out);
        free(long_conf);
        out = tuned_import("empty", "");
        assert_string_equal(out, "# Converted from tuned's profile empty by vmtunectl import-tuned.\n"
                                 "# Lines \"#- ...\" were not carried over; the comment above each says why.\n"
                                 "[main]\n");
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_case_is_carried_over_or_commented_with_why),
                cmocka_unit_test(test_long_values_and_empty_input_stay_valid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
