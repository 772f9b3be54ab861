/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): the shipped virtual-host
 * profile on this machine's real kernel. Every value it touches is put back
 * exactly, also when an assertion fails: the originals are snapshotted
 * before the daemon starts and written back by the teardown (and atexit) if
 * anything still differs. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/kfile.h"
#include "testlib.h"

#define MAX_TARGETS 256

struct target {
        char key[128];
        char want[256];
        char path[256];      /* relative to / */
        char original[4096]; /* normalized, selected */
};

static struct target targets[MAX_TARGETS];
static size_t n_targets;
static char *workdir;
static struct tl_daemon daemon_run;

static void normalized(const char *rel, char *buf, size_t size)
{
        char *s = tl_read("/", rel);

        snprintf(buf, size, "%s", s ? s : "<missing>");
        free(s);
        kfile_normalize(buf);
        kfile_selected(buf);
}

/* The safety net: whatever happened, every snapshotted value is put back. */
static void restore_machine(void)
{
        if (daemon_run.pid > 0)
                (void) tl_daemon_stop(&daemon_run, SIGTERM);
        for (size_t i = 0; i < n_targets; i++) {
                char now[4096];
                FILE *f;

                normalized(targets[i].path, now, sizeof(now));
                if (strcmp(now, targets[i].original) == 0)
                        continue;
                fprintf(stderr, "host test: putting %s back to '%s' (was '%s')\n", targets[i].path,
                        targets[i].original, now);
                char abs[300];
                snprintf(abs, sizeof(abs), "/%s", targets[i].path);
                f = fopen(abs, "w");
                if (f) {
                        fprintf(f, "%s\n", targets[i].original);
                        fclose(f);
                }
        }
}

static char *const *base_argv(const char *extra)
{
        static char profiles[512];

        snprintf(profiles, sizeof(profiles), "%s/profiles", tl_srcdir());
        return tl_host_argv(workdir, profiles, extra);
}

/* Learn what the profile will set from the daemon itself (--check-config
 * lines "  KEY = VALUE    -> PATH"), and snapshot those files. */
static int setup(void **state)
{
        char *out = NULL, *line, *save = NULL;

        if (!tl_running_as_root())
                return -1;
        workdir = tl_mkdtemp("vmtuned-host");
        tl_write(workdir, "vmtuned.conf",
                 "[vmtuned]\nprofile = virtual-host\nlibvirt_uri = test:///default\n");
        if (tl_run(base_argv("--check-config"), &out) != 0) {
                fprintf(stderr, "--check-config failed:\n%s\n", out);
                free(out);
                return -1;
        }
        for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *eq = strstr(line, " = "), *arrow = strstr(line, "    -> ");
                struct target *t;

                if (!eq || !arrow || line[0] != ' ' || n_targets == MAX_TARGETS)
                        continue;
                t = &targets[n_targets++];
                while (*line == ' ')
                        line++;
                snprintf(t->key, sizeof(t->key), "%.*s", (int) (eq - line), line);
                snprintf(t->want, sizeof(t->want), "%.*s", (int) (arrow - eq - 3), eq + 3);
                snprintf(t->path, sizeof(t->path), "%s", arrow + 7);
                normalized(t->path, t->original, sizeof(t->original));
        }
        free(out);
        atexit(restore_machine);
        return n_targets > 0 ? 0 : -1;
}

static int teardown(void **state)
{
        restore_machine();
        tl_daemon_free(&daemon_run);
        tl_rm_rf(workdir);
        free(workdir);
        return 0;
}

static bool took(const struct target *t, const char *now)
{
        if (t->want[0] == '>')
                return atol(now) >= atol(t->want + 1);
        return strcmp(now, t->want) == 0;
}

static void test_virtual_host_applies_to_the_real_kernel_and_stop_restores_every_value(void **state)
{
        size_t applied = 0;
        char now[4096], *err;

        tl_assert_daemon_starts(&daemon_run, base_argv(NULL));
        err = tl_daemon_stderr(&daemon_run);
        for (size_t i = 0; i < n_targets; i++) {
                const struct target *t = &targets[i];

                normalized(t->path, now, sizeof(now));
                if (took(t, now)) {
                        applied++;
                        continue;
                }
                /* The kernel may refuse a value; then the daemon must have said so. */
                if (!strstr(err, t->key))
                        fail_msg("%s: is '%s', want '%s', and the log does not say why", t->key, now, t->want);
                fprintf(stderr, "note: %s not applied here (logged): '%s'\n", t->key, now);
        }
        free(err);
        fprintf(stderr, "%zu of %zu settings took on this kernel\n", applied, n_targets);
        assert_true(applied > n_targets / 2);

        assert_int_equal(tl_daemon_stop(&daemon_run, SIGTERM), 0);
        for (size_t i = 0; i < n_targets; i++) {
                normalized(targets[i].path, now, sizeof(now));
                if (strcmp(now, targets[i].original) != 0)
                        fail_msg("%s: '%s' after stop, was '%s' before start", targets[i].key, now,
                                 targets[i].original);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_virtual_host_applies_to_the_real_kernel_and_stop_restores_every_value),
        };
        return cmocka_run_group_tests_name("virtual-host on the real kernel", tests, setup, teardown);
}
