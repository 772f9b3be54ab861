/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): the mover against real
 * libvirtd and a real, burning 2-vCPU QEMU (TCG) domain. Each move is
 * checked against three witnesses the mover does not share code with:
 * the kernel (Cpus_allowed_list of every thread), libvirt's cgroups (read
 * at the paths tests/vm/vm finds) and `virsh vcpupin`/`emulatorpin`; and
 * the domain table must still call the domain movable afterwards. The
 * domain has an iothread, which moves with the vCPUs and the emulator. One
 * node on this machine: CPU 0 <-> CPU 1 take the real paths; a memory move
 * with nothing remote must write no cgroup (an inotify watch proves it).
 * Memory across nodes is the 4-node lab's (make lab).
 *
 * Every domain it creates is named vmt-move-* (VMT_VM_PREFIX, so the
 * cleanup touches no other) and destroyed, and the libvirtd it started is
 * stopped, also when an assertion fails or the run is interrupted:
 * cleanup() runs from the group teardown, atexit and SIGINT/SIGTERM. */
#include <setjmp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cmocka.h>
#include <libvirt/virterror.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "base/procparse.h"
#include "balance/move.h"
#include "testlib.h"
#include "base/util.h"

#define PREFIX "vmt-move-"
#define DOM "vmt-move-a"
#define URI "qemu:///system"

static virConnectPtr conn;
static struct kroot root;
static bool cleaned;

/* --- tests/vm/vm, virsh ------------------------------------------------- */

static char *virsh(const char *a, const char *b, const char *c, const char *d)
{
        char *argv[] = { (char *) "/usr/bin/virsh", (char *) "-c", (char *) URI, (char *) a, (char *) b,
                         (char *) c, (char *) d, NULL };
        int code;
        char *out = tl_run_trimmed(argv, &code);

        if (code != 0)
                fail_msg("virsh %s %s failed (%d): %s", a, b, code, out);
        return out;
}

static void cleanup(void)
{
        char *out;
        int code;

        if (cleaned)
                return;
        cleaned = true;
        if (conn)
                virConnectClose(conn);
        conn = NULL;
        kroot_close(&root);
        /* destroys vmt-move-* domains, stops only the daemons vm_libvirtd_up started */
        out = tl_vm(&code, "libvirtd-down", NULL);
        fprintf(stderr, "%s%scleanup: %s\n", out, *out ? "\n" : "", code == 0 ? "done" : "FAILED");
        free(out);
}

static void on_signal(int sig)
{
        cleanup();
        _exit(128 + sig);
}

static void quiet(void *userdata, virErrorPtr error)
{
}

/* --- what the witnesses say ---------------------------------------------- */

static char *thread_cpus(pid_t pid, pid_t tid)
{
        char path[128], *status, *list = NULL;

        snprintf(path, sizeof(path), "proc/%d/task/%d/status", (int) pid, (int) tid);
        status = tl_read("/", path);
        assert_non_null(status);
        assert_int_equal(procparse_status_field(status, "Cpus_allowed_list", &list), 0);
        free(status);
        return list;
}

/* A file of the domain's cpuset cgroup for one thread group ("vcpu0",
 * "emulator"), where tests/vm/vm finds it from QEMU's /proc/PID/cgroup. */
static char *cgroup_path(const char *part, const char *file)
{
        int code;
        char *dir = tl_vm(&code, "cgroup", DOM, "cpuset", part, NULL), *path;

        if (code != 0)
                fail_msg("vm cgroup %s: %s", part, dir);
        path = xasprintf("%s/%s", dir, file);
        free(dir);
        return path;
}

static char *cgroup_value(const char *part, const char *file)
{
        char *path = cgroup_path(part, file), *value = tl_read("/", path + 1);

        assert_non_null(value);
        free(path);
        value[strcspn(value, "\n")] = '\0';
        return value;
}

/* The CPU affinity of one vCPU or iothread as `virsh vcpupin` (" 0      1")
 * or `virsh iothreadinfo` (" 1             0-1") lists it: id, then CPUs. */
static char *virsh_affinity(const char *command, unsigned id)
{
        char *out = virsh(command, DOM, NULL, NULL), *save = NULL, *found = NULL;

        for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                unsigned i;
                char cpus[64];

                if (sscanf(line, " %u %63s", &i, cpus) == 2 && i == id)
                        found = xstrdup(cpus);
        }
        free(out);
        assert_non_null(found);
        return found;
}

/* virsh emulatorpin: "       *: 1" */
static char *virsh_emulatorpin(void)
{
        char *out = virsh("emulatorpin", DOM, NULL, NULL), *star = strstr(out, "*:"), *found;

        assert_non_null(star);
        star += 2;
        star += strspn(star, " ");
        found = strndup(star, strcspn(star, " \n"));
        free(out);
        return found;
}

static void build(const char *name, struct domain *ret)
{
        virDomainPtr dom = virDomainLookupByName(conn, name);

        assert_non_null(dom);
        assert_int_equal(domain_build(dom, &root, NULL, ret), 0);
        virDomainFree(dom);
}

/* One vCPU or iothread (kind "vcpu" or "iothread", virsh's command to
 * list it) runs on cpus by the kernel, its cgroup and virsh. */
static void assert_thread_on(const struct domain *d, const struct domain_thread *t, const char *kind,
                             const char *virsh_command, const char *cpus)
{
        char *s, part[32];

        s = thread_cpus(d->pid, t->tid);
        assert_string_equal(s, cpus);
        free(s);
        snprintf(part, sizeof(part), "%s%d", kind, t->index);
        s = cgroup_value(part, "cpuset.cpus");
        assert_string_equal(s, cpus);
        free(s);
        s = virsh_affinity(virsh_command, (unsigned) t->index);
        assert_string_equal(s, cpus);
        free(s);
}

/* Every witness agrees that the domain runs on cpus, and the domain
 * table still calls it movable. */
static void assert_placed_on(const char *cpus)
{
        struct domain d = { 0 };
        char *s;

        build(DOM, &d);
        assert_int_equal(d.n_vcpu_threads, 2);
        for (size_t i = 0; i < d.n_vcpu_threads; i++)
                assert_thread_on(&d, &d.vcpu_threads[i], "vcpu", "vcpupin", cpus);
        assert_int_equal(d.n_iothreads, 1);
        for (size_t i = 0; i < d.n_iothreads; i++)
                assert_thread_on(&d, &d.iothreads[i], "iothread", "iothreadinfo", cpus);
        for (size_t i = 0; i < d.n_emulator_tids; i++) {
                s = thread_cpus(d.pid, d.emulator_tids[i]);
                assert_string_equal(s, cpus);
                free(s);
        }
        s = cgroup_value("emulator", "cpuset.cpus");
        assert_string_equal(s, cpus);
        free(s);
        s = virsh_emulatorpin();
        assert_string_equal(s, cpus);
        free(s);
        if (!d.movable)
                fail_msg("%s not movable after vmtuned's move: %s", DOM, d.reason);
        assert_int_equal(d.pins, 0);
        domain_done(&d);
}

static struct bitmap cpu_list(const char *s)
{
        struct bitmap b = { 0 };

        assert_int_equal(bitmap_parse_list(s, &b), 0);
        return b;
}

static int move_to(const char *cpus, struct domain *d, struct move_result *res)
{
        struct balance_move m = { .kind = BALANCE_MOVE_CPU, .from_nodes = 1, .to_nodes = 1 };
        struct bitmap target = cpu_list(cpus);
        int r;

        r = move_domain(conn, &root, d, &m, &target, res);
        fprintf(stderr, "move to %s: %d, %" PRIu64 " us: %s\n", cpus, r, res->elapsed_usec, res->message);
        bitmap_done(&target);
        return r;
}

/* --- the tests ------------------------------------------------------------ */

static void test_vcpus_move_to_cpu1_and_kernel_cgroups_and_virsh_agree(void **state)
{
        struct domain d = { 0 };
        struct move_result res;
        char *xml;
        virDomainPtr dom;

        build(DOM, &d);
        assert_true(d.movable);
        assert_int_equal(move_to("1", &d, &res), 0);
        assert_true(res.cpus_moved);
        assert_false(res.undone);
        assert_int_equal(res.memory_how, MOVE_MEMORY_NONE);
        domain_done(&d);
        assert_placed_on("1");

        /* the live XML now has libvirt's <vcpupin> and vmtuned's record */
        dom = virDomainLookupByName(conn, DOM);
        xml = virDomainGetXMLDesc(dom, 0);
        assert_non_null(strstr(xml, "<vcpupin vcpu='0' cpuset='1'/>"));
        assert_non_null(strstr(xml, VMTUNED_PLACEMENT_XMLNS));
        fprintf(stderr, "live XML after the move:\n%s\n", xml);
        free(xml);
        virDomainFree(dom);
}

static void test_an_admin_pin_after_the_move_makes_it_unmovable(void **state)
{
        struct domain d = { 0 };

        free(virsh("vcpupin", DOM, "0", "0"));   /* --live is the default for a running domain */
        build(DOM, &d);
        assert_false(d.movable);
        assert_true(d.pins & DOMAIN_PIN_VCPUPIN);
        assert_non_null(strstr(d.reason, "static <vcpupin>"));
        domain_done(&d);

        /* the same pin as vmtuned's record cannot be told apart: movable again */
        free(virsh("vcpupin", DOM, "0", "1"));
        build(DOM, &d);
        assert_true(d.movable);
        domain_done(&d);
}

static void test_vcpus_move_back_to_both_cpus(void **state)
{
        struct domain d = { 0 };
        struct move_result res;

        build(DOM, &d);
        assert_int_equal(move_to("0-1", &d, &res), 0);
        assert_true(res.cpus_moved);
        domain_done(&d);
        assert_placed_on("0-1");
}

/* libvirt refuses vCPU 7 of a 2-vCPU domain after vCPUs 0 and 1 moved:
 * both go back to where they were. */
static void test_a_move_refused_half_way_is_undone(void **state)
{
        struct domain d = { 0 };
        struct move_result res;

        build(DOM, &d);
        d.vcpu_threads = xreallocarray(d.vcpu_threads, 3, sizeof(struct domain_thread));
        d.vcpu_threads[2] = (struct domain_thread){ .index = 7, .tid = d.vcpu_threads[1].tid };
        d.n_vcpu_threads = 3;
        assert_int_equal(move_to("1", &d, &res), -EINVAL);
        assert_false(res.cpus_moved);
        assert_true(res.undone);
        assert_non_null(strstr(res.message, "vCPU 7"));
        assert_non_null(strstr(res.message, "undone: 2 pinned back"));
        domain_done(&d);
        assert_placed_on("0-1");
}

/* One node here: nothing is remote, and the move must leave libvirt's
 * cgroups alone (no write at all, memory_migrate as libvirt set it). The
 * cross-node path (widen, migrate_pages, narrow with memory_migrate off)
 * runs in the 4-node lab (make lab). */
static void test_memory_move_with_nothing_remote_writes_no_cgroup(void **state)
{
        static const char *const parts[] = { "emulator", "vcpu0", "vcpu1" };
        struct balance_move m = { .kind = BALANCE_MOVE_MEMORY, .from_nodes = 1, .to_nodes = 1 };
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), wd[3];
        bool modified[3] = { false };
        struct domain d = { 0 };
        struct move_result res;
        char buf[4096], *s;
        ssize_t n;

        assert_true(fd >= 0);
        for (size_t i = 0; i < 3; i++) {
                char *path = cgroup_path(parts[i], "cpuset.mems");

                wd[i] = inotify_add_watch(fd, path, IN_MODIFY);
                assert_true(wd[i] >= 0);
                free(path);
        }
        build(DOM, &d);
        assert_int_equal(move_domain(conn, &root, &d, &m, NULL, &res), 0);
        fprintf(stderr, "memory move: %" PRIu64 " us: %s\n", res.elapsed_usec, res.message);
        assert_true(res.memory_moved);
        assert_false(res.cpus_moved);
        assert_int_equal(res.memory_how, MOVE_MEMORY_CGROUP);
        assert_int_equal(res.remote_mib, 0);
        assert_int_equal(res.migrated_mib, 0);
        domain_done(&d);

        while ((n = read(fd, buf, sizeof(buf))) > 0)
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *e = (struct inotify_event *) p;

                        for (size_t i = 0; i < 3; i++)
                                modified[i] |= e->wd == wd[i] && (e->mask & IN_MODIFY);
                        p += sizeof(*e) + e->len;
                }
        close(fd);
        for (size_t i = 0; i < 3; i++) {
                if (modified[i])
                        fail_msg("%s/cpuset.mems was written though nothing changed", parts[i]);
                s = cgroup_value(parts[i], "cpuset.mems");
                assert_string_equal(s, "0");
                free(s);
        }
        /* libvirt's setting under cgroup v1, untouched */
        s = cgroup_value("vcpu0", "cpuset.memory_migrate");
        assert_string_equal(s, "1");
        free(s);

        s = virsh("metadata", DOM, VMTUNED_PLACEMENT_XMLNS, NULL);
        assert_non_null(strstr(s, "cpus=\"0-1\""));
        assert_non_null(strstr(s, "nodes=\"0\""));
        free(s);
        assert_placed_on("0-1");
}

static void test_moving_a_domain_destroyed_just_before_fails_and_does_nothing(void **state)
{
        struct domain d = { 0 };
        struct move_result res;
        int code;
        char *out;

        build(DOM, &d);
        out = tl_vm(&code, "destroy", DOM, NULL);
        assert_int_equal(code, 0);
        free(out);
        assert_int_equal(move_to("1", &d, &res), -ENOENT);
        assert_false(res.cpus_moved);
        assert_false(res.undone);
        assert_non_null(strstr(res.message, DOM));
        assert_int_equal(kill(d.pid, 0), -1);
        domain_done(&d);
}

/* --- setup ----------------------------------------------------------------- */

static int setup(void **state)
{
        int code;
        char *out;

        if (!tl_running_as_root())
                return -1;
        setenv("VMT_VM_PREFIX", PREFIX, 1);
        atexit(cleanup);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        virSetErrorFunc(NULL, quiet);
        out = tl_vm(&code, "build-guest", NULL);
        free(out);
        if (code != 0)
                return -1;
        out = tl_vm(&code, "libvirtd-up", NULL);
        fprintf(stderr, "%s\n", out);
        free(out);
        if (code != 0)
                return -1;
        free(tl_vm(NULL, "destroy-all", NULL)); /* leftovers of an interrupted run */
        out = tl_vm(&code, "create", DOM, "--vcpus", "2", "--iothreads=1", "--burn", "--wait-boot", NULL);
        fprintf(stderr, "%s\n", out);
        free(out);
        if (code != 0)
                return -1;
        conn = virConnectOpen(URI);
        if (!conn || kroot_open("/", false, &root) < 0)
                return -1;
        return 0;
}

static int teardown(void **state)
{
        cleanup();
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vcpus_move_to_cpu1_and_kernel_cgroups_and_virsh_agree),
                cmocka_unit_test(test_an_admin_pin_after_the_move_makes_it_unmovable),
                cmocka_unit_test(test_vcpus_move_back_to_both_cpus),
                cmocka_unit_test(test_a_move_refused_half_way_is_undone),
                cmocka_unit_test(test_memory_move_with_nothing_remote_writes_no_cgroup),
                cmocka_unit_test(test_moving_a_domain_destroyed_just_before_fails_and_does_nothing),
        };

        return cmocka_run_group_tests(tests, setup, teardown);
}
