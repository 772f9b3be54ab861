/* SPDX-License-Identifier: GPL-2.0-or-later */
/* vmtunectl import-tuned on Debian's own tuned profiles: the package is
 * fetched with apt-get download and unpacked with dpkg-deb -x into a
 * temporary directory (nothing installed, nothing committed); five
 * profiles are converted, and each converted profile passes vmtuned
 * --check-config on a fixture root, the includes resolved among the
 * converted ones. Skipped, saying so, when apt cannot reach the archive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "testlib.h"

static const char *const profiles[] = {
        "virtual-host", "virtual-guest", "throughput-performance", "latency-performance", "balanced",
};

static int sh(char **out, const char *fmt, ...) _printf_(2, 3);
static int sh(char **out, const char *fmt, ...)
{
        _cleanup_free_ char *cmd = NULL;
        va_list ap;
        int code;

        va_start(ap, fmt);
        cmd = xvasprintf(fmt, ap);
        va_end(ap);
        char *argv[] = { (char *) "/bin/sh", (char *) "-c", cmd, NULL };
        code = tl_run(argv, out);
        return code;
}

static void test_debians_tuned_profiles_convert_and_pass_check_config(void **state)
{
        char *dir = tl_mkdtemp("vmtuned-tuned");
        char *out = NULL;
        int code;

        code = sh(&out, "cd '%s' && apt-get download tuned && dpkg-deb -x tuned_*.deb pkg", dir);
        if (code != 0) {
                fprintf(stderr, "skipped: apt-get download tuned failed (no archive reachable?):\n%s\n", out);
                free(out);
                tl_rm_rf(dir);
                free(dir);
                skip();
        }
        free(out);
        tl_write(dir, "root/proc/sys/vm/swappiness", "60\n");
        tl_write(dir, "profiles/.keep", "");
        tl_write(dir, "vmtuned.conf", "[vmtuned]\nprofile = virtual-host\n[balancer]\nenabled = no\n");
        for (size_t i = 0; i < ARRAY_SIZE(profiles); i++) {
                code = sh(&out, "'%s' import-tuned '%s/pkg/usr/lib/tuned/%s' > '%s/profiles/%s.conf'",
                          tl_vmtunectl_bin(), dir, profiles[i], dir, profiles[i]);
                if (code != 0)
                        fail_msg("import-tuned %s: exit %d:\n%s", profiles[i], code, out);
                free(out);
        }
        for (size_t i = 0; i < ARRAY_SIZE(profiles); i++) {
                char *argv[] = { (char *) tl_vmtuned_bin(), (char *) "--check-config", (char *) "--root", NULL,
                                 (char *) "--profile-dir", NULL, (char *) "--config", NULL,
                                 (char *) "--profile", (char *) profiles[i], NULL };
                _cleanup_free_ char *root = xasprintf("%s/root", dir), *pd = xasprintf("%s/profiles", dir),
                                    *conf = xasprintf("%s/vmtuned.conf", dir);

                argv[3] = root;
                argv[5] = pd;
                argv[7] = conf;
                code = tl_run(argv, &out);
                if (code != 0)
                        fail_msg("vmtuned --check-config --profile %s: exit %d:\n%s", profiles[i], code, out);
                free(out);
        }
        /* What each carries: tuned's values by name, its [cpu] and the
         * conditional aarch64 sections commented with why. */
        out = tl_read(dir, "profiles/throughput-performance.conf");
        assert_non_null(strstr(out, "\n[sysctl]\nvm.dirty_ratio=40\nvm.dirty_background_ratio=10\nvm.swappiness=10\n"
                                    "net.core.somaxconn=>2048\n"));
        assert_non_null(strstr(out, "\n# [sysctl.thunderx] is not carried over: it applies only where "));
        assert_non_null(strstr(out, "\n# [variables] is not carried over: "));
        assert_non_null(strstr(out, "#- [cpu] governor=performance\n") || strstr(out, "\n[cpu]\ngovernor=performance\n"));
        free(out);
        out = tl_read(dir, "profiles/virtual-host.conf");
        assert_non_null(strstr(out, "\ninclude=throughput-performance\n"));
        assert_non_null(strstr(out, "\n[sysctl]\nvm.dirty_background_ratio=5\n"));
        free(out);
        out = tl_read(dir, "profiles/balanced.conf");
        assert_non_null(strstr(out, "\n# [modules] is not carried over: "));
        free(out);
        tl_rm_rf(dir);
        free(dir);
}

static void test_import_tuned_needs_a_directory_with_tuned_conf(void **state)
{
        char *argv[] = { (char *) tl_vmtunectl_bin(), (char *) "import-tuned", (char *) "/nonexistent", NULL };
        char *usage[] = { (char *) tl_vmtunectl_bin(), (char *) "import-tuned", NULL };
        char *out = NULL;

        assert_int_equal(tl_run(argv, &out), 1);
        assert_non_null(strstr(out, "cannot read /nonexistent/tuned.conf"));
        free(out);
        assert_int_equal(tl_run(usage, &out), 2);
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_debians_tuned_profiles_convert_and_pass_check_config),
                cmocka_unit_test(test_import_tuned_needs_a_directory_with_tuned_conf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
