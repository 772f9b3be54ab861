/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libvirt side against libvirt's real test driver, on a real sd-event
 * loop: the event implementation, the domain table (XML flags, metadata,
 * exclusion, /proc facts from a fixture root), lifecycle events, and
 * reconnects. ASan/LSan watch every test for leaks.
 *
 * Two test driver URIs, because they behave differently:
 * - test:///ABS/node.xml parses the file into state private to each
 *   connection: perfect for a table with known domains, useless for events
 *   (a second connection sees its own copy);
 * - test:///default is one state shared by every connection in the
 *   process: the test changes domains on its own connection and the
 *   events reach vmtuned's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "virt/domain.h"
#include "base/kfile.h"
#include "base/log.h"
#include "testlib.h"
#include "base/util.h"
#include "virt/virt.h"

struct fixture {
        char *dir;
        char *uri;
        struct kroot root;
        sd_event *event;
        struct virt *virt;
};

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run the loop until expr holds or timeout_ms passes; the value of expr. */
#define RUN_UNTIL(e, expr, timeout_ms)                                                   \
        ({                                                                               \
                long _deadline = now_ms() + (timeout_ms);                                \
                bool _ok;                                                                \
                while (!(_ok = (expr)) && now_ms() < _deadline)                          \
                        assert_true(sd_event_run((e), 20 * 1000) >= 0);                  \
                _ok;                                                                     \
        })

static void run_for(sd_event *e, long ms)
{
        long deadline = now_ms() + ms;

        while (now_ms() < deadline)
                assert_true(sd_event_run(e, 10 * 1000) >= 0);
}

/* --- fixture: a node file and a root tree -------------------------------- */

#define DOMAIN_XML(name, extra)                                                             \
        "<domain type='test'><name>" name "</name><memory unit='MiB'>512</memory>"          \
        "<currentMemory unit='MiB'>256</currentMemory><vcpu>2</vcpu>" extra                 \
        "<os><type>hvm</type></os></domain>\n"

static const char node_xml[] =
        "<node>\n"
        DOMAIN_XML("alpha", "")
        DOMAIN_XML("beta", "")
        DOMAIN_XML("pinned", "<cputune><vcpupin vcpu='0' cpuset='0'/></cputune>")
        DOMAIN_XML("tuned", "<numatune><memory mode='strict' nodeset='0'/></numatune>")
        DOMAIN_XML("optout", "<metadata><vmtuned:balance xmlns:vmtuned='https://vmtuned.org/xmlns/1.0'>off"
                             "</vmtuned:balance></metadata>")
        DOMAIN_XML("skip-me", "")
        DOMAIN_XML("noproc", "")
        DOMAIN_XML("ghost", "")
        "</node>\n";

/* A QEMU process in the fixture /proc: main thread pid, two vCPUs, an
 * iothread and a worker. */
static void write_process(const char *dir, const char *name, int pid, const char *cgroup,
                          const char *cpus0, const char *cpus1)
{
        static const char *const comms[] = { "qemu-system-x86", "CPU 0/KVM", "CPU 1/KVM", "IO iothread1", "worker" };
        _cleanup_free_ char *pidfile = xasprintf("run/libvirt/qemu/%s.pid", name);
        _cleanup_free_ char *pidtext = xasprintf("%d", pid);
        _cleanup_free_ char *cg = xasprintf("proc/%d/cgroup", pid);
        _cleanup_free_ char *maps = xasprintf("proc/%d/numa_maps", pid);

        tl_write(dir, pidfile, pidtext);
        tl_write(dir, cg, cgroup);
        tl_write(dir, maps,
                 "7f0000000000 default anon=100 dirty=100 N0=100 N1=28 kernelpagesize_kB=4\n"
                 "7f1000000000 default\n");
        for (size_t i = 0; i < ARRAY_SIZE(comms); i++) {
                _cleanup_free_ char *comm = xasprintf("proc/%d/task/%d/comm", pid, pid + (int) i);
                _cleanup_free_ char *status = xasprintf("proc/%d/task/%d/status", pid, pid + (int) i);
                _cleanup_free_ char *text = xasprintf("%s\n", comms[i]);
                _cleanup_free_ char *st = xasprintf("Name:\t%s\nCpus_allowed:\tf\nCpus_allowed_list:\t%s\n", comms[i],
                                                    i == 1 ? cpus0 : i == 2 ? cpus1 : "0-3");

                tl_write(dir, comm, text);
                tl_write(dir, status, st);
        }
}

static void write_root(const char *dir)
{
        const char *v2 = "0::/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope/libvirt/emulator\n";
        const char *v1 = "5:memory:/machine/qemu-2-beta.libvirt-qemu/emulator\n"
                         "4:cpuset:/machine/qemu-2-beta.libvirt-qemu/emulator\n"
                         "0::/\n";

        tl_write(dir, "node.xml", node_xml);
        /* Hybrid: v1 cpuset and memory, v2 beside them. */
        tl_write(dir, "proc/self/mountinfo",
                 "25 1 0:23 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
                 "26 25 0:24 / /sys/fs/cgroup/unified rw shared:4 - cgroup2 cgroup2 rw\n"
                 "27 25 0:25 / /sys/fs/cgroup/cpuset rw shared:5 - cgroup cgroup rw,cpuset\n"
                 "28 25 0:26 / /sys/fs/cgroup/memory rw shared:6 - cgroup cgroup rw,memory\n");
        tl_write(dir, "sys/devices/system/node/online", "0-1\n");
        tl_write(dir, "sys/devices/system/node/node0/cpulist", "0-1\n");
        tl_write(dir, "sys/devices/system/node/node1/cpulist", "2-3\n");
        write_process(dir, "alpha", 1000, v2, "0", "1");
        write_process(dir, "beta", 2000, v1, "2-3", "2-3");
        write_process(dir, "pinned", 3000, v1, "0", "0-3");
        write_process(dir, "tuned", 4000, v1, "0-1", "0-1");
        write_process(dir, "optout", 5000, v1, "0-1", "0-1");
        write_process(dir, "skip-me", 6000, v1, "0-1", "0-1");
        /* noproc: no PID file, like every test driver domain. ghost: a PID
         * file whose process is gone (the domain stopped while read). */
        tl_write(dir, "run/libvirt/qemu/ghost.pid", "9999\n");
}

static char *const default_exclude[] = { "skip-*", NULL };

static struct virt_options options(struct fixture *f, const char *uri, char *const *exclude)
{
        return (struct virt_options){ .uri = uri, .exclude = exclude, .root = &f->root };
}

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-virt");
        write_root(f->dir);
        f->uri = xasprintf("test://%s/node.xml", f->dir);
        assert_int_equal(kroot_open(f->dir, false, &f->root), 0);
        assert_int_equal(sd_event_new(&f->event), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        virt_free(f->virt);
        /* libvirt's handles are released from the loop: let it run dry. */
        for (int i = 0; i < 100 && sd_event_run(f->event, 0) > 0; i++)
                ;
        assert_int_equal(virt_event_n_watches(), 0);
        sd_event_unref(f->event);
        kroot_close(&f->root);
        tl_rm_rf(f->dir);
        free(f->dir);
        free(f->uri);
        free(f);
        return 0;
}

static void start(struct fixture *f, const char *uri, char *const *exclude)
{
        struct virt_options o = options(f, uri, exclude);

        assert_int_equal(virt_new(f->event, &o, &f->virt), 0);
}

static const struct domain *find(struct fixture *f, const char *name)
{
        return virt_domain_find(f->virt, name);
}

/* --- pure: XML flags, metadata, exclusion ------------------------------- */

static void test_xml_pins_sees_each_kind_of_administrator_placement(void **state)
{
        static const struct {
                const char *xml;
                unsigned pins;
        } cases[] = {
                { "<domain><vcpu>2</vcpu></domain>", 0 },
                { "<domain><cputune><vcpupin vcpu='0' cpuset='1'/></cputune></domain>", DOMAIN_PIN_VCPUPIN },
                { "<domain><cputune><emulatorpin cpuset='1'/></cputune></domain>", DOMAIN_PIN_EMULATORPIN },
                { "<domain><cputune><iothreadpin iothread='1' cpuset='1'/></cputune></domain>", DOMAIN_PIN_IOTHREADPIN },
                { "<domain><cputune><shares>2048</shares></cputune></domain>", 0 },
                { "<domain><vcpu placement='static' cpuset='0-3'>2</vcpu></domain>", DOMAIN_PIN_VCPU_CPUSET },
                { "<domain><vcpu cpuset='0-3'>2</vcpu></domain>", DOMAIN_PIN_VCPU_CPUSET },
                { "<domain><vcpu placement='static'>2</vcpu></domain>", 0 },
                { "<domain><vcpu placement='auto' cpuset='0-3'>2</vcpu></domain>", DOMAIN_PIN_PLACEMENT_AUTO },
                { "<domain><numatune><memory mode='strict' nodeset='1'/></numatune></domain>", DOMAIN_PIN_NUMATUNE },
                { "<domain><numatune><memnode cellid='0' mode='strict' nodeset='1'/></numatune></domain>",
                  DOMAIN_PIN_NUMATUNE },
                { "<domain><numatune><memory mode='strict' placement='auto'/></numatune></domain>",
                  DOMAIN_PIN_PLACEMENT_AUTO },
                { "<domain><memoryBacking><hugepages/></memoryBacking></domain>", DOMAIN_PIN_HUGEPAGES },
                { "<domain><memoryBacking><locked/></memoryBacking></domain>", DOMAIN_PIN_LOCKED },
                { "<domain><memoryBacking><nosharepages/></memoryBacking></domain>", 0 },
                { "<domain><devices><hostdev mode='subsystem' type='pci'/></devices></domain>", DOMAIN_PIN_HOSTDEV },
                { "<domain><devices><disk type='file'/></devices></domain>", 0 },
                { "<domain><cputune><vcpupin vcpu='0' cpuset='1'/><emulatorpin cpuset='2'/></cputune>"
                  "<memoryBacking><hugepages/><locked/></memoryBacking></domain>",
                  DOMAIN_PIN_VCPUPIN | DOMAIN_PIN_EMULATORPIN | DOMAIN_PIN_HUGEPAGES | DOMAIN_PIN_LOCKED },
        };
        unsigned pins;

        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                pins = 0xdead;
                assert_int_equal(domain_xml_pins(cases[i].xml, &pins), 0);
                assert_int_equal(pins, cases[i].pins);
        }
        pins = 0xdead;
        assert_int_equal(domain_xml_pins("not xml", &pins), -EINVAL);
        assert_int_equal(domain_xml_pins("<network/>", &pins), -EINVAL);
        assert_int_equal(pins, 0xdead);
}

static void test_metadata_off_opts_out_and_anything_else_does_not(void **state)
{
        assert_true(domain_metadata_opts_out("<balance>off</balance>"));
        assert_true(domain_metadata_opts_out("<balance> Off\n</balance>"));
        assert_true(domain_metadata_opts_out("<balance>no</balance>"));
        assert_true(domain_metadata_opts_out("<balance>false</balance>"));
        assert_true(domain_metadata_opts_out("<balance>0</balance>"));
        assert_false(domain_metadata_opts_out("<balance>on</balance>"));
        assert_false(domain_metadata_opts_out("<balance/>"));
        assert_false(domain_metadata_opts_out("<balance>offline</balance>"));
        assert_false(domain_metadata_opts_out("garbage"));
        assert_false(domain_metadata_opts_out(NULL));
}

static void test_exclude_globs_first_match_named_and_bang_wins_anywhere(void **state)
{
        char *const globs[] = { "test-*", "!test-keep", "*-tmp", NULL };
        char *const bang_first[] = { "!db-test", "db-*", NULL };
        char *const only_bang[] = { "!db-test", NULL };

        assert_string_equal(domain_excluded_by("test-a", globs), "test-*");
        assert_null(domain_excluded_by("test-keep", globs));
        assert_string_equal(domain_excluded_by("test-tmp", globs), "test-*");
        assert_string_equal(domain_excluded_by("x-tmp", globs), "*-tmp");
        assert_null(domain_excluded_by("prod", globs));
        assert_null(domain_excluded_by("prod", NULL));
        assert_null(domain_excluded_by("db-test", bang_first));
        assert_string_equal(domain_excluded_by("db-1", bang_first), "db-*");
        assert_null(domain_excluded_by("db-1", only_bang)); /* nothing to exclude from */
}

static void test_movable_reason_lists_every_cause_in_order(void **state)
{
        struct domain d = { .name = xstrdup("web-1"), .pid = 42, .n_vcpu_threads = 1 };
        char *const globs[] = { "web-*", NULL };

        domain_update_movable(&d, NULL);
        assert_true(d.movable);
        assert_null(d.reason);

        d.pins = DOMAIN_PIN_HOSTDEV | DOMAIN_PIN_VCPUPIN | DOMAIN_PIN_OPT_OUT;
        domain_update_movable(&d, globs);
        assert_false(d.movable);
        assert_string_equal(d.reason, "excluded by 'web-*', opted out in <metadata>, static <vcpupin>, <hostdev>");

        d.pins = 0;
        d.pid = 0;
        domain_update_movable(&d, NULL);
        assert_false(d.movable);
        assert_string_equal(d.reason, "no process");

        d.pid = 42;
        d.n_vcpu_threads = 0;
        domain_update_movable(&d, NULL);
        assert_string_equal(d.reason, "no vCPU threads");
        domain_done(&d);
}

/* --- the event implementation ------------------------------------------ */

struct counter {
        int calls;
        int last_events;
        int freed;
};

static void count_handle(int watch, int fd, int events, void *opaque)
{
        struct counter *c = opaque;
        char byte;

        c->calls++;
        c->last_events = events;
        if (events & VIR_EVENT_HANDLE_READABLE)
                assert_int_equal(read(fd, &byte, 1), 1);
}

static void count_timeout(int timer, void *opaque)
{
        ((struct counter *) opaque)->calls++;
}

static void count_free(void *opaque)
{
        ((struct counter *) opaque)->freed++;
}

static void test_event_handle_fires_on_readable_fd_and_frees_later(void **state)
{
        struct fixture *f = *state;
        struct counter c = { 0 }, w = { 0 };
        int fds[2], h, hw;

        assert_int_equal(virt_event_attach(f->event), 0);
        assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
        h = virEventAddHandle(fds[0], VIR_EVENT_HANDLE_READABLE, count_handle, &c, count_free);
        assert_true(h > 0);
        /* The same fd twice (libvirt allows it for other events). */
        hw = virEventAddHandle(fds[0], 0, count_handle, &w, count_free);
        assert_true(hw > 0 && hw != h);

        run_for(f->event, 30);
        assert_int_equal(c.calls, 0);
        assert_int_equal(write(fds[1], "x", 1), 1);
        assert_true(RUN_UNTIL(f->event, c.calls == 1, 1000));
        assert_int_equal(c.last_events, VIR_EVENT_HANDLE_READABLE);
        assert_int_equal(w.calls, 0); /* registered with no events: off */

        /* Update to nothing: no more calls, though data waits. */
        virEventUpdateHandle(h, 0);
        assert_int_equal(write(fds[1], "y", 1), 1);
        run_for(f->event, 30);
        assert_int_equal(c.calls, 1);
        virEventUpdateHandle(h, VIR_EVENT_HANDLE_READABLE);
        assert_true(RUN_UNTIL(f->event, c.calls == 2, 1000));

        /* Remove: ff runs from the loop, not inside remove. */
        assert_int_equal(virEventRemoveHandle(h), 0);
        assert_int_equal(c.freed, 0);
        assert_int_equal(virEventRemoveHandle(h), -1);
        assert_true(RUN_UNTIL(f->event, c.freed == 1, 1000));
        assert_int_equal(write(fds[1], "z", 1), 1);
        run_for(f->event, 30);
        assert_int_equal(c.calls, 2);

        assert_int_equal(virEventRemoveHandle(hw), 0);
        assert_true(RUN_UNTIL(f->event, w.freed == 1, 1000));
        assert_int_equal(virt_event_n_watches(), 0);
        virt_event_detach(f->event);
        close(fds[0]);
        close(fds[1]);
}

static void test_event_timeouts_periodic_immediate_and_disabled(void **state)
{
        struct fixture *f = *state;
        struct counter periodic = { 0 }, now = { 0 }, off = { 0 };
        int tp, tn, to;
        long t0;

        assert_int_equal(virt_event_attach(f->event), 0);
        tp = virEventAddTimeout(50, count_timeout, &periodic, count_free);
        tn = virEventAddTimeout(0, count_timeout, &now, count_free);
        to = virEventAddTimeout(-1, count_timeout, &off, count_free);
        assert_true(tp > 0 && tn > 0 && to > 0);

        /* 0: every iteration. */
        assert_true(sd_event_run(f->event, 0) >= 0);
        assert_true(sd_event_run(f->event, 0) >= 0);
        assert_true(now.calls >= 2);
        virEventUpdateTimeout(tn, -1);
        now.calls = 0;

        t0 = now_ms();
        assert_true(RUN_UNTIL(f->event, periodic.calls == 3, 2000));
        assert_true(now_ms() - t0 >= 140); /* three periods of 50 ms, minus slack */
        assert_int_equal(now.calls, 0);
        assert_int_equal(off.calls, 0);

        /* Enable the disabled one; disable the periodic one. */
        virEventUpdateTimeout(to, 10);
        virEventUpdateTimeout(tp, -1);
        periodic.calls = 0;
        assert_true(RUN_UNTIL(f->event, off.calls >= 2, 1000));
        assert_int_equal(periodic.calls, 0);

        assert_int_equal(virEventRemoveTimeout(tp), 0);
        assert_int_equal(virEventRemoveTimeout(tn), 0);
        assert_int_equal(virEventRemoveTimeout(to), 0);
        assert_int_equal(virEventRemoveTimeout(to), -1);
        assert_int_equal(periodic.freed + now.freed + off.freed, 0);
        assert_true(RUN_UNTIL(f->event, periodic.freed + now.freed + off.freed == 3, 1000));
        virt_event_detach(f->event);
}

static void test_event_release_runs_when_the_loop_is_freed_first(void **state)
{
        struct counter c = { 0 };
        sd_event *e;
        int t;

        assert_int_equal(sd_event_new(&e), 0);
        assert_int_equal(virt_event_attach(e), 0);
        t = virEventAddTimeout(-1, count_timeout, &c, count_free);
        assert_int_equal(virEventRemoveTimeout(t), 0);
        virt_event_detach(e);
        assert_int_equal(c.freed, 0);
        sd_event_unref(e);
        assert_int_equal(c.freed, 1);
}

static void test_event_second_loop_is_refused_while_one_is_attached(void **state)
{
        struct fixture *f = *state;
        sd_event *other;

        assert_int_equal(sd_event_new(&other), 0);
        assert_int_equal(virt_event_attach(f->event), 0);
        assert_int_equal(virt_event_attach(other), -EBUSY);
        assert_int_equal(virt_event_attach(f->event), 0); /* same loop: fine */
        virt_event_detach(f->event);
        virt_event_detach(f->event);
        assert_int_equal(virt_event_attach(other), 0);
        virt_event_detach(other);
        sd_event_unref(other);
}

/* --- the table ----------------------------------------------------------- */

static void test_table_lists_running_domains_sorted_with_process_facts(void **state)
{
        struct fixture *f = *state;
        const struct domain *d, *alpha;
        _cleanup_free_ char *cpus = NULL, *nodes = NULL;
        size_t n;

        start(f, f->uri, default_exclude);
        assert_true(virt_is_connected(f->virt));
        d = virt_domains(f->virt, &n);
        /* ghost went away while being read: dropped, not listed. */
        assert_int_equal(n, 7);
        assert_string_equal(d[0].name, "alpha");
        assert_string_equal(d[1].name, "beta");
        assert_string_equal(d[2].name, "noproc");
        assert_string_equal(d[3].name, "optout");
        assert_string_equal(d[4].name, "pinned");
        assert_string_equal(d[5].name, "skip-me");
        assert_string_equal(d[6].name, "tuned");
        assert_null(find(f, "ghost"));

        alpha = find(f, "alpha");
        assert_int_equal(alpha->id, 1);
        assert_int_equal(strlen(alpha->uuid), 36);
        assert_int_equal(alpha->pid, 1000);
        assert_int_equal(alpha->n_vcpus, 2);
        assert_int_equal(alpha->memory_kib, 256 * 1024);
        assert_false(alpha->paused);
        assert_int_equal(alpha->n_vcpu_threads, 2);
        assert_int_equal(alpha->vcpu_threads[0].index, 0);
        assert_int_equal(alpha->vcpu_threads[0].tid, 1001);
        assert_int_equal(alpha->vcpu_threads[1].index, 1);
        assert_int_equal(alpha->vcpu_threads[1].tid, 1002);
        assert_int_equal(alpha->n_iothreads, 1);
        assert_int_equal(alpha->iothreads[0].index, 1);
        assert_int_equal(alpha->iothreads[0].tid, 1003);
        assert_int_equal(alpha->n_emulator_tids, 2);
        assert_int_equal(alpha->emulator_tids[0], 1000);
        assert_int_equal(alpha->emulator_tids[1], 1004);
        /* v2 path, no v1 cpuset line: under the unified mount. */
        assert_string_equal(alpha->cgroup_cpuset, "sys/fs/cgroup/unified/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope");
        assert_string_equal(alpha->cgroup_memory, "sys/fs/cgroup/unified/machine.slice/machine-qemu\\x2d1\\x2dalpha.scope");
        cpus = bitmap_format_list(&alpha->cpus);
        assert_string_equal(cpus, "0-1"); /* vCPU threads only; the others may use 0-3 */
        nodes = bitmap_format_list(&alpha->cpu_nodes);
        assert_string_equal(nodes, "0");
        assert_int_equal(alpha->n_node_memory, 2);
        assert_int_equal(alpha->node_memory_kib[0], 400);
        assert_int_equal(alpha->node_memory_kib[1], 112);
        assert_true(alpha->movable);
        assert_null(alpha->reason);

        d = find(f, "beta");
        assert_string_equal(d->cgroup_cpuset, "sys/fs/cgroup/cpuset/machine/qemu-2-beta.libvirt-qemu");
        assert_string_equal(d->cgroup_memory, "sys/fs/cgroup/memory/machine/qemu-2-beta.libvirt-qemu");
        free(nodes);
        nodes = bitmap_format_list(&d->cpu_nodes);
        assert_string_equal(nodes, "1");
        assert_true(d->movable);
}

/* A real QEMU process, captured: see tests/fixtures/root-qemu-hybrid/README. */
static void test_table_reads_a_captured_qemu_process_in_hybrid_cgroups(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *captured = xasprintf("%s/tests/fixtures/root-qemu-hybrid", tl_srcdir());
        _cleanup_free_ char *cpus = NULL, *nodes = NULL;
        struct kroot root;
        struct virt_options o;
        const struct domain *d;

        tl_write(f->dir, "idle.xml", "<node>\n" DOMAIN_XML("vmt-smoke-idle", "") "</node>\n");
        free(f->uri);
        f->uri = xasprintf("test://%s/idle.xml", f->dir);
        assert_int_equal(kroot_open(captured, false, &root), 0);
        o = (struct virt_options){ .uri = f->uri, .root = &root };
        assert_int_equal(virt_new(f->event, &o, &f->virt), 0);

        d = find(f, "vmt-smoke-idle");
        assert_non_null(d);
        assert_int_equal(d->pid, 12917);
        assert_int_equal(d->n_vcpu_threads, 1);
        assert_int_equal(d->vcpu_threads[0].index, 0);
        assert_int_equal(d->vcpu_threads[0].tid, 12925); /* "CPU 0/TCG" */
        assert_int_equal(d->n_iothreads, 0);             /* "IO mon_iothread" is QEMU's own */
        assert_int_equal(d->n_emulator_tids, 3);
        assert_int_equal(d->emulator_tids[0], 12917);
        /* v1 without systemd: machine/qemu-N-NAME.libvirt-qemu/{emulator,vcpuN}. */
        assert_string_equal(d->cgroup_cpuset, "sys/fs/cgroup/cpuset/machine/qemu-1-vmt-smoke-idle.libvirt-qemu");
        assert_string_equal(d->cgroup_memory, "sys/fs/cgroup/memory/machine/qemu-1-vmt-smoke-idle.libvirt-qemu");
        cpus = bitmap_format_list(&d->cpus);
        assert_string_equal(cpus, "0-1");
        nodes = bitmap_format_list(&d->cpu_nodes);
        assert_string_equal(nodes, "0");
        assert_int_equal(d->n_node_memory, 1);
        /* summed by awk over the file's lines without mapmax= (79836 KiB
         * with the QEMU binary and libraries other processes map too) */
        assert_int_equal(d->node_memory_kib[0], 56260);
        assert_true(d->movable);

        virt_free(f->virt);
        f->virt = NULL;
        kroot_close(&root);
}

static void test_table_marks_pinned_tuned_opted_out_excluded_and_processless(void **state)
{
        struct fixture *f = *state;

        start(f, f->uri, default_exclude);
        assert_false(find(f, "pinned")->movable);
        assert_string_equal(find(f, "pinned")->reason, "static <vcpupin>");
        assert_string_equal(find(f, "tuned")->reason, "<numatune> nodeset");
        assert_string_equal(find(f, "optout")->reason, "opted out in <metadata>");
        assert_string_equal(find(f, "skip-me")->reason, "excluded by 'skip-*'");
        assert_string_equal(find(f, "noproc")->reason, "no process");
        assert_int_equal(find(f, "noproc")->pid, 0);
        assert_int_equal(find(f, "noproc")->n_vcpu_threads, 0);
        assert_null(find(f, "noproc")->cgroup_cpuset);
}

static void test_reconfigure_exclude_remarks_domains_without_reconnecting(void **state)
{
        struct fixture *f = *state;
        char *const exclude[] = { "*", "!skip-me", NULL };
        struct virt_options o = options(f, f->uri, exclude);
        const struct domain *before, *after;
        size_t n;

        start(f, f->uri, default_exclude);
        before = virt_domains(f->virt, &n);
        assert_int_equal(virt_reconfigure(f->virt, &o), 0);
        after = virt_domains(f->virt, &n);
        assert_ptr_equal(before, after); /* same table, re-marked */
        assert_true(find(f, "skip-me")->movable);
        assert_string_equal(find(f, "alpha")->reason, "excluded by '*'");
        assert_string_equal(find(f, "pinned")->reason, "excluded by '*', static <vcpupin>");
}

static void test_domains_print_table_and_json(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *text = NULL, *json = NULL, *expected = NULL;
        size_t size, n;
        const struct domain *d;
        FILE *out;

        start(f, f->uri, default_exclude);
        d = virt_domains(f->virt, &n);

        out = open_memstream(&text, &size);
        domains_print(out, d, n, false);
        fclose(out);
        assert_true(startswith(text, "NAME     ID  PID   STATE    VCPUS  MEMORY   CPUS  CPU-NODES  MEMORY-NODES"));
        assert_non_null(strstr(text, "\nalpha    1   1000  running  2      256 MiB  0-1   0          0: 400 KiB, 1: 112 KiB  yes\n"));
        assert_non_null(strstr(text, "\nnoproc   "));
        assert_non_null(strstr(text, "no: no process\n"));

        out = open_memstream(&json, &size);
        domains_print(out, d, 1, true);
        fclose(out);
        expected = xasprintf(
                "[{\"name\":\"alpha\",\"uuid\":\"%s\",\"id\":1,\"pid\":1000,\"state\":\"running\",\"vcpus\":2,"
                "\"memory_kib\":262144,\"vcpu_threads\":[{\"vcpu\":0,\"tid\":1001},{\"vcpu\":1,\"tid\":1002}],"
                "\"iothreads\":[{\"iothread\":1,\"tid\":1003}],\"emulator_threads\":[1000,1004],"
                "\"cgroup_cpuset\":\"sys/fs/cgroup/unified/machine.slice/machine-qemu\\\\x2d1\\\\x2dalpha.scope\","
                "\"cgroup_memory\":\"sys/fs/cgroup/unified/machine.slice/machine-qemu\\\\x2d1\\\\x2dalpha.scope\","
                "\"cpus\":\"0-1\",\"cpu_nodes\":[0],\"memory_by_node\":[{\"node\":0,\"kib\":400},{\"node\":1,\"kib\":112}],"
                "\"movable\":true,\"reason\":null}]\n",
                d[0].uuid);
        assert_string_equal(json, expected);

        /* Strings are escaped; a domain without process has no threads. */
        free(json);
        json = NULL;
        out = open_memstream(&json, &size);
        domains_print(out, find(f, "noproc"), 1, true);
        fclose(out);
        assert_non_null(strstr(json, "\"pid\":0,"));
        assert_non_null(strstr(json, "\"vcpu_threads\":[],\"iothreads\":[],\"emulator_threads\":[],"
                                     "\"cgroup_cpuset\":null,\"cgroup_memory\":null,\"cpus\":\"\",\"cpu_nodes\":[],"
                                     "\"memory_by_node\":[],\"movable\":false,\"reason\":\"no process\"}"));
}

/* stderr into a file, to count log lines. */
static int capture_stderr(const char *path)
{
        int saved = dup(STDERR_FILENO), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

        assert_true(saved >= 0 && fd >= 0);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        close(fd);
        return saved;
}

static void restore_stderr(int saved)
{
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
}

static int count(const char *haystack, const char *needle)
{
        int n = 0;

        for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static int log_count(struct fixture *f, const char *needle)
{
        _cleanup_free_ char *log = tl_read(f->dir, "stderr");

        return log ? count(log, needle) : 0;
}

/* --- lifecycle events (test:///default, shared state) --------------------- */

static const char fresh_xml[] = DOMAIN_XML("fresh", "");

static void test_lifecycle_events_update_the_table_and_are_logged(void **state)
{
        struct fixture *f = *state;
        virConnectPtr conn = virConnectOpen("test:///default");
        _cleanup_free_ char *log_path = xasprintf("%s/stderr", f->dir);
        int saved_level = log_get_max_level(), saved;
        virDomainPtr dom;

        assert_non_null(conn);
        log_set_max_level(LOG_INFO);
        saved = capture_stderr(log_path);
        start(f, "test:///default", NULL);
        assert_non_null(find(f, "test")); /* the driver's own running domain */
        assert_null(find(f, "fresh"));

        dom = virDomainCreateXML(conn, fresh_xml, 0);
        assert_non_null(dom);
        assert_true(RUN_UNTIL(f->event, find(f, "fresh") != NULL, 2000));
        assert_false(find(f, "fresh")->paused);

        assert_int_equal(virDomainSuspend(dom), 0);
        assert_true(RUN_UNTIL(f->event, find(f, "fresh")->paused, 2000));
        assert_int_equal(virDomainResume(dom), 0);
        assert_true(RUN_UNTIL(f->event, !find(f, "fresh")->paused, 2000));

        assert_int_equal(virDomainDestroy(dom), 0);
        assert_true(RUN_UNTIL(f->event, find(f, "fresh") == NULL, 2000));
        assert_non_null(find(f, "test"));
        restore_stderr(saved);
        log_set_max_level(saved_level);

        assert_int_equal(log_count(f, "[info]: domain fresh started (booted): entry rebuilt"), 1);
        assert_int_equal(log_count(f, "[info]: domain fresh suspended (paused): marked paused"), 1);
        assert_int_equal(log_count(f, "[info]: domain fresh resumed (unpaused): entry rebuilt"), 1);
        assert_int_equal(log_count(f, "[info]: domain fresh stopped (destroyed): removed from the table"), 1);
        virDomainFree(dom);
        virConnectClose(conn);
}

/* The test driver queues no TUNABLE events (only the QEMU driver does;
 * tests/vm covers that with `virsh vcpupin`), so this checks the part
 * on_tunable relies on: a rebuild reads the live XML again, here after
 * a pin made while the domain runs, picked up by the RESUMED rebuild. */
static void test_rebuild_picks_up_pinning_made_while_running(void **state)
{
        struct fixture *f = *state;
        virConnectPtr conn = virConnectOpen("test:///default");
        virDomainPtr dom;
        unsigned char cpumap = 0x1;

        assert_non_null(conn);
        start(f, "test:///default", NULL);
        assert_false(find(f, "test")->pins & DOMAIN_PIN_VCPUPIN);
        dom = virDomainLookupByName(conn, "test");
        assert_non_null(dom);
        /* The test driver takes only flags 0 (virDomainPinVcpu). */
        assert_int_equal(virDomainPinVcpu(dom, 0, &cpumap, 1), 0);
        assert_int_equal(virDomainSuspend(dom), 0);
        assert_int_equal(virDomainResume(dom), 0);
        assert_true(RUN_UNTIL(f->event, find(f, "test")->pins & DOMAIN_PIN_VCPUPIN, 2000));
        assert_false(find(f, "test")->movable);
        assert_non_null(strstr(find(f, "test")->reason, "static <vcpupin>"));
        virDomainFree(dom);
        virConnectClose(conn);
}

/* --- connection loss and reconnect ------------------------------------- */

static void test_reconnect_twenty_times_rebuilds_the_table_and_leaks_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *log_path = xasprintf("%s/stderr", f->dir);
        int saved_level = log_get_max_level(), saved;
        size_t n, watches;

        log_set_max_level(LOG_INFO);
        saved = capture_stderr(log_path);
        start(f, f->uri, default_exclude);
        virt_domains(f->virt, &n);
        assert_int_equal(n, 7);
        watches = virt_event_n_watches();
        for (int i = 0; i < 20; i++) {
                virt_drop_connection(f->virt);
                assert_false(virt_is_connected(f->virt));
                virt_domains(f->virt, &n);
                assert_int_equal(n, 0);
                assert_true(RUN_UNTIL(f->event, virt_is_connected(f->virt), 2000));
                virt_domains(f->virt, &n);
                assert_int_equal(n, 7);
                assert_true(find(f, "alpha")->movable);
                /* Old handles gone, new ones in their place. */
                assert_int_equal(virt_event_n_watches(), watches);
        }
        restore_stderr(saved);
        log_set_max_level(saved_level);
        /* One line per change of state, none per attempt. */
        assert_int_equal(log_count(f, "[warning]: lost the connection to"), 20);
        assert_int_equal(log_count(f, "[info]: connected to"), 21);
        assert_int_equal(log_count(f, "cannot connect"), 0);
}

static void test_new_uri_reconnects_and_follows_the_new_table(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *other = xasprintf("test://%s/other.xml", f->dir);
        struct virt_options to_other = options(f, other, NULL), back = options(f, f->uri, NULL);

        tl_write(f->dir, "other.xml", "<node>\n" DOMAIN_XML("solo", "") "</node>\n");
        start(f, f->uri, NULL);
        for (int i = 0; i < 20; i++) {
                size_t n;

                assert_int_equal(virt_reconfigure(f->virt, &to_other), 0);
                assert_true(virt_is_connected(f->virt));
                virt_domains(f->virt, &n);
                assert_int_equal(n, 1);
                assert_non_null(find(f, "solo"));
                assert_int_equal(virt_reconfigure(f->virt, &back), 0);
                virt_domains(f->virt, &n);
                assert_int_equal(n, 7);
        }
}

static void test_unreachable_libvirt_is_retried_with_backoff_and_logged_once(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *later = xasprintf("test://%s/later.xml", f->dir);
        _cleanup_free_ char *log_path = xasprintf("%s/stderr", f->dir);
        int saved_level = log_get_max_level(), saved;
        long t0 = now_ms();

        log_set_max_level(LOG_DEBUG);
        saved = capture_stderr(log_path);
        start(f, later, NULL); /* later.xml does not exist yet */
        assert_false(virt_is_connected(f->virt));
        /* Attempts at 0 s and 1 s fail; the next one comes 2 s later. */
        assert_true(RUN_UNTIL(f->event, log_count(f, "still cannot connect") == 1, 3000));
        assert_true(now_ms() - t0 >= 900);
        tl_write(f->dir, "later.xml", "<node>\n" DOMAIN_XML("late", "") "</node>\n");
        assert_true(RUN_UNTIL(f->event, virt_is_connected(f->virt), 3000));
        assert_true(now_ms() - t0 >= 2900);
        restore_stderr(saved);
        log_set_max_level(saved_level);

        assert_non_null(find(f, "late"));
        assert_int_equal(log_count(f, "[warning]: cannot connect to"), 1);
        assert_int_equal(log_count(f, "still cannot connect"), 1);
        assert_int_equal(log_count(f, "[info]: connected to"), 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_xml_pins_sees_each_kind_of_administrator_placement),
                cmocka_unit_test(test_metadata_off_opts_out_and_anything_else_does_not),
                cmocka_unit_test(test_exclude_globs_first_match_named_and_bang_wins_anywhere),
                cmocka_unit_test(test_movable_reason_lists_every_cause_in_order),
                cmocka_unit_test_setup_teardown(test_event_handle_fires_on_readable_fd_and_frees_later, setup, teardown),
                cmocka_unit_test_setup_teardown(test_event_timeouts_periodic_immediate_and_disabled, setup, teardown),
                cmocka_unit_test(test_event_release_runs_when_the_loop_is_freed_first),
                cmocka_unit_test_setup_teardown(test_event_second_loop_is_refused_while_one_is_attached, setup, teardown),
                cmocka_unit_test_setup_teardown(test_table_lists_running_domains_sorted_with_process_facts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_table_reads_a_captured_qemu_process_in_hybrid_cgroups, setup, teardown),
                cmocka_unit_test_setup_teardown(test_table_marks_pinned_tuned_opted_out_excluded_and_processless, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reconfigure_exclude_remarks_domains_without_reconnecting, setup, teardown),
                cmocka_unit_test_setup_teardown(test_domains_print_table_and_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_lifecycle_events_update_the_table_and_are_logged, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rebuild_picks_up_pinning_made_while_running, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reconnect_twenty_times_rebuilds_the_table_and_leaks_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_uri_reconnects_and_follows_the_new_table, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreachable_libvirt_is_retried_with_backoff_and_logged_once, setup, teardown),
        };

        /* Tests that read the log raise the level themselves. */
        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
