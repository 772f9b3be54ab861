/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The settings engine on a fixture tree: planning targets from a profile
 * (plan.c), applying them with the rollback journal (apply.c), and the
 * full apply/restore cycle. One file past 600 lines because every apply
 * test plans first, on the same fixture tree of disks and knobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "base/kfile.h"
#include "base/log.h"
#include "config/profile.h"
#include "tuning/rollback.h"
#include "tuning/apply.h"
#include "tuning/plan.h"
#include "testlib.h"

#define SET(sec, k, v, ln)                                                        \
        { .section = (char *) (sec), .key = (char *) (k), .value = (char *) (v), \
          .file = (char *) "profiles/test.conf", .line = (ln) }
#define PROFILE(...) TL_PROFILE("test", __VA_ARGS__)

#define THP_ENABLED "sys/kernel/mm/transparent_hugepage/enabled"

struct fixture {
        char *dir;              /* kernel tree at dir/root, runtime dir at dir/run */
        const char *root_dir;   /* dir/root: root's own path */
        const char *run_dir;    /* dir/run: rb's own directory */
        struct kroot root;
        struct rollback *rb;
        struct target_list targets;
};

static void make_disk(const struct fixture *f, const char *dev, const char *scheduler)
{
        _cleanup_free_ char *sched = xasprintf("root/sys/block/%s/queue/scheduler", dev);
        _cleanup_free_ char *ra = xasprintf("root/sys/block/%s/queue/read_ahead_kb", dev);
        _cleanup_free_ char *nr = xasprintf("root/sys/block/%s/queue/nr_requests", dev);

        if (scheduler)
                tl_write(f->dir, sched, scheduler);
        tl_write(f->dir, ra, "128\n");
        if (scheduler)
                tl_write(f->dir, nr, "256\n");
}

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-settings");
        tl_write(f->dir, "root/proc/sys/vm/swappiness", "60\n");
        tl_write(f->dir, "root/proc/sys/vm/dirty_ratio", "20\n");
        tl_write(f->dir, "root/proc/sys/fs/aio-max-nr", "65536\n");
        tl_write(f->dir, "root/" THP_ENABLED, "always [madvise] never\n");
        tl_write(f->dir, "root/sys/kernel/mm/ksm/run", "0\n");

        /* vda as in a real /sys: sys/block/vda is a symlink into
         * sys/devices, and its partition lives below it. */
        tl_write(f->dir, "root/sys/devices/pci0000:00/virtio2/block/vda/queue/scheduler",
                 "[none] mq-deadline kyber\n");
        tl_write(f->dir, "root/sys/devices/pci0000:00/virtio2/block/vda/queue/read_ahead_kb", "128\n");
        tl_write(f->dir, "root/sys/devices/pci0000:00/virtio2/block/vda/queue/nr_requests", "256\n");
        tl_write(f->dir, "root/sys/devices/pci0000:00/virtio2/block/vda/vda1/partition", "1\n");
        tl_write(f->dir, "root/sys/devices/pci0000:00/virtio2/block/vda/vda1/read_ahead_kb", "128\n");
        tl_symlink(f->dir, "root/sys/block/vda", "../devices/pci0000:00/virtio2/block/vda");
        make_disk(f, "vdb", "[none] kyber\n");
        make_disk(f, "sda", "[mq-deadline] none\n");
        make_disk(f, "nvme0n1", "[none]\n");
        make_disk(f, "loop0", "[none] mq-deadline\n");
        make_disk(f, "zram0", NULL); /* no scheduler, no nr_requests */

        tl_open_root_and_journal(f->dir, &f->root, &f->rb);
        f->root_dir = f->root.path;
        f->run_dir = f->rb->dir;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        target_list_free(&f->targets);
        tl_close_root_and_journal(f->dir, &f->root, f->rb);
        free(f);
        return 0;
}

static void plan(struct fixture *f, const struct profile *p)
{
        target_list_free(&f->targets);
        assert_int_equal(settings_plan(&f->root, p, &f->targets), 0);
}

static struct apply_stats apply(struct fixture *f, const struct kroot *root, const struct profile *p)
{
        struct apply_stats st = { 99, 99, 99 };

        plan(f, p);
        assert_int_equal(settings_apply(root, f->rb, &f->targets, &st), 0);
        return st;
}

static const struct target *find_target(const struct fixture *f, const char *key)
{
        for (size_t i = 0; i < f->targets.n; i++)
                if (streq(f->targets.v[i].key, key))
                        return &f->targets.v[i];
        return NULL;
}

static void assert_file(const struct fixture *f, const char *rel, const char *content)
{
        _cleanup_free_ char *path = xasprintf("root/%s", rel);
        _cleanup_free_ char *have = tl_read(f->dir, path);

        assert_non_null(have);
        assert_string_equal(have, content);
}

static void assert_target_keys(const struct fixture *f, const char *const *keys, size_t n)
{
        assert_int_equal(f->targets.n, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(f->targets.v[i].key, keys[i]);
}

/* --- planning ------------------------------------------------------------ */

static void test_plan_maps_sysctl_vm_and_ksm_keys_to_their_files(void **state)
{
        struct fixture *f = *state;
        const struct target *t;

        plan(f, PROFILE(SET("sysctl", "vm.swappiness", "10", 3),
                        SET("vm", "transparent_hugepages", "never", 4),
                        SET("ksm", "run", "1", 5),
                        SET("sysctl", "net.ipv4.tcp_rmem", "4096  131072\t6291456", 6)));
        assert_int_equal(f->targets.n, 4);

        t = find_target(f, "sysctl vm.swappiness");
        assert_non_null(t);
        assert_string_equal(t->path, "proc/sys/vm/swappiness");
        assert_string_equal(t->value, "10");
        assert_string_equal(t->source, "profiles/test.conf:3");
        assert_false(t->selector);
        assert_false(t->only_if_greater);

        t = find_target(f, "vm transparent_hugepages");
        assert_non_null(t);
        assert_string_equal(t->path, profile_key_lookup("vm", "transparent_hugepages")->path);
        assert_string_equal(t->path, THP_ENABLED);
        assert_true(t->selector);

        t = find_target(f, "ksm run");
        assert_non_null(t);
        assert_string_equal(t->path, profile_key_lookup("ksm", "run")->path);
        assert_string_equal(t->path, "sys/kernel/mm/ksm/run");

        t = find_target(f, "sysctl net.ipv4.tcp_rmem");
        assert_non_null(t);
        assert_string_equal(t->path, "proc/sys/net/ipv4/tcp_rmem");
        assert_string_equal(t->value, "4096 131072 6291456");
}

static void test_plan_turns_greater_prefix_into_only_if_greater(void **state)
{
        struct fixture *f = *state;
        const struct target *t;

        plan(f, PROFILE(SET("sysctl", "fs.aio-max-nr", ">1048576", 1)));
        t = find_target(f, "sysctl fs.aio-max-nr");
        assert_non_null(t);
        assert_string_equal(t->value, "1048576");
        assert_true(t->only_if_greater);
}

/* The one plan every caller uses leaves out what the KSM module writes
 * itself in the profile's mode, so apply and verify agree on it. */
static void test_plan_leaves_the_knobs_the_ksm_module_writes_to_it(void **state)
{
        struct fixture *f = *state;
        static const char *const auto_keys[] = { "ksm sleep_millisecs", "sysctl vm.swappiness" };
        static const char *const on_keys[] = { "ksm run", "ksm pages_to_scan" };

        plan(f, PROFILE(SET("ksm", "mode", "auto", 1), SET("ksm", "run", "1", 2),
                        SET("ksm", "pages_to_scan", "300", 3), SET("ksm", "merge_across_nodes", "0", 4),
                        SET("ksm", "sleep_millisecs", "50", 5), SET("sysctl", "vm.swappiness", "10", 6)));
        assert_target_keys(f, auto_keys, ARRAY_SIZE(auto_keys));

        /* mode=on (the default): run= and the scan rate are the profile's to apply. */
        plan(f, PROFILE(SET("ksm", "run", "1", 1), SET("ksm", "pages_to_scan", "300", 2),
                        SET("ksm", "merge_across_nodes", "0", 3)));
        assert_target_keys(f, on_keys, ARRAY_SIZE(on_keys));
}

static void test_device_matches_by_default_every_disk_but_loop_ram_and_zram(void **state)
{
        assert_true(settings_device_matches(NULL, 0, "vda"));
        assert_true(settings_device_matches(NULL, 0, "sda"));
        assert_true(settings_device_matches(NULL, 0, "nvme0n1"));
        assert_false(settings_device_matches(NULL, 0, "loop0"));
        assert_false(settings_device_matches(NULL, 0, "ram0"));
        assert_false(settings_device_matches(NULL, 0, "zram0"));
}

static void test_device_matches_negation_wins_and_virtual_disks_need_their_own_glob(void **state)
{
        const char *const star[] = { "*" };
        const char *const loops[] = { "loop*" };
        const char *const ram[] = { "ram*" };
        const char *const zram[] = { "zram*" };
        const char *const but_sda[] = { "*", "!sda" };
        const char *const neg_first[] = { "!sda", "sd*" };
        const char *const only_neg[] = { "!vdb" };
        const char *const some[] = { "vd?", "nvme*" };

        assert_false(settings_device_matches(star, 1, "loop0"));
        assert_true(settings_device_matches(star, 1, "vda"));
        assert_true(settings_device_matches(loops, 1, "loop0"));
        assert_false(settings_device_matches(loops, 1, "vda"));
        assert_true(settings_device_matches(ram, 1, "ram0"));
        assert_false(settings_device_matches(ram, 1, "zram0"));
        assert_true(settings_device_matches(zram, 1, "zram0"));
        assert_false(settings_device_matches(but_sda, 2, "sda"));
        assert_true(settings_device_matches(but_sda, 2, "sdb"));
        assert_false(settings_device_matches(neg_first, 2, "sda"));
        assert_true(settings_device_matches(neg_first, 2, "sdb"));
        assert_false(settings_device_matches(neg_first, 2, "vda"));
        assert_true(settings_device_matches(only_neg, 1, "vda"));
        assert_false(settings_device_matches(only_neg, 1, "vdb"));
        assert_false(settings_device_matches(only_neg, 1, "loop0"));
        assert_true(settings_device_matches(some, 2, "vdc"));
        assert_false(settings_device_matches(some, 2, "vdaa"));
        assert_true(settings_device_matches(some, 2, "nvme0n1"));
}

static void test_plan_disk_rules_follow_the_device_globs_with_negation(void **state)
{
        struct fixture *f = *state;
        const char *const keys[] = { "disk sda read_ahead_kb", "disk vda read_ahead_kb" };

        plan(f, PROFILE(SET("disk", "devices", "vd*, sd*,!vdb", 1),
                        SET("disk", "read_ahead_kb", "4096", 2)));
        assert_target_keys(f, keys, ARRAY_SIZE(keys));
        assert_string_equal(f->targets.v[0].path, "sys/block/sda/queue/read_ahead_kb");
        assert_string_equal(f->targets.v[1].path, "sys/block/vda/queue/read_ahead_kb");
        assert_string_equal(f->targets.v[1].value, "4096");
}

static void test_plan_default_devices_skip_loop_and_zram_but_a_loop_glob_matches(void **state)
{
        struct fixture *f = *state;
        const char *const all[] = { "disk nvme0n1 read_ahead_kb", "disk sda read_ahead_kb",
                                    "disk vda read_ahead_kb", "disk vdb read_ahead_kb" };
        const char *const loop[] = { "disk loop0 read_ahead_kb" };

        plan(f, PROFILE(SET("disk", "read_ahead_kb", "4096", 2)));
        assert_target_keys(f, all, ARRAY_SIZE(all));
        plan(f, PROFILE(SET("disk", "devices", "*", 1), SET("disk", "read_ahead_kb", "4096", 2)));
        assert_target_keys(f, all, ARRAY_SIZE(all));
        plan(f, PROFILE(SET("disk", "devices", "loop*", 1), SET("disk", "read_ahead_kb", "4096", 2)));
        assert_target_keys(f, loop, ARRAY_SIZE(loop));
}

static void test_plan_scheduler_falls_back_to_the_first_one_offered(void **state)
{
        struct fixture *f = *state;
        const char *const keys[] = { "disk nvme0n1 scheduler", "disk vda scheduler", "disk vdb scheduler" };

        plan(f, PROFILE(SET("disk", "devices", "vd*,nvme*", 1),
                        SET("disk", "scheduler", "mq-deadline,none", 2)));
        assert_target_keys(f, keys, ARRAY_SIZE(keys));
        assert_string_equal(f->targets.v[0].value, "none");        /* offers only none */
        assert_string_equal(f->targets.v[1].value, "mq-deadline"); /* offers both */
        assert_string_equal(f->targets.v[2].value, "none");        /* no mq-deadline */
        assert_string_equal(f->targets.v[1].path, "sys/block/vda/queue/scheduler");
        assert_true(f->targets.v[1].selector);
}

static void test_plan_scheduler_none_of_which_is_offered_gives_no_target(void **state)
{
        struct fixture *f = *state;

        plan(f, PROFILE(SET("disk", "devices", "nvme*", 1),
                        SET("disk", "scheduler", "mq-deadline,kyber", 2),
                        SET("disk", "nr_requests", "64", 3)));
        assert_int_equal(f->targets.n, 1);
        assert_string_equal(f->targets.v[0].key, "disk nvme0n1 nr_requests");
        /* Said once by whoever applies the plan, not at every re-plan for
         * status or verify: a note in the plan, not a log line. */
        assert_int_equal(f->targets.n_notes, 1);
        assert_string_equal(f->targets.notes[0].key, "disk nvme0n1 scheduler");
        assert_non_null(strstr(f->targets.notes[0].text, "none of \"mq-deadline,kyber\" is offered"));
}

static void test_plan_notes_an_unknown_key_and_plans_the_rest(void **state)
{
        struct fixture *f = *state;

        plan(f, PROFILE(SET("vm", "no_such_knob", "1", 4), SET("sysctl", "vm.swappiness", "10", 5)));
        assert_int_equal(f->targets.n, 1);
        assert_string_equal(f->targets.v[0].key, "sysctl vm.swappiness");
        assert_int_equal(f->targets.n_notes, 1);
        assert_null(f->targets.notes[0].key);
        assert_non_null(strstr(f->targets.notes[0].text, ":4: [vm] no_such_knob is not a known setting"));
}

static void test_plan_never_targets_a_partition(void **state)
{
        struct fixture *f = *state;
        const char *const keys[] = { "disk vda read_ahead_kb", "disk vdb read_ahead_kb" };

        /* A tree that (unlike the kernel) lists a partition in sys/block. */
        tl_write(f->dir, "root/sys/block/vdb1/partition", "1\n");
        tl_write(f->dir, "root/sys/block/vdb1/queue/read_ahead_kb", "128\n");
        plan(f, PROFILE(SET("disk", "devices", "vd*", 1), SET("disk", "read_ahead_kb", "4096", 2)));
        assert_target_keys(f, keys, ARRAY_SIZE(keys));
}

static void test_plan_device_without_a_scheduler_gets_only_the_knobs_it_has(void **state)
{
        struct fixture *f = *state;
        const char *const keys[] = { "disk zram0 read_ahead_kb" };

        plan(f, PROFILE(SET("disk", "devices", "zram*", 1),
                        SET("disk", "scheduler", "none", 2),
                        SET("disk", "read_ahead_kb", "1024", 3),
                        SET("disk", "nr_requests", "64", 4)));
        assert_target_keys(f, keys, ARRAY_SIZE(keys));
}

static void test_plan_orders_scheduler_before_queue_knobs_per_device(void **state)
{
        struct fixture *f = *state;
        const char *const keys[] = { "disk vda scheduler", "disk vda read_ahead_kb", "disk vda nr_requests" };

        plan(f, PROFILE(SET("disk", "devices", "vda", 1),
                        SET("disk", "nr_requests", "64", 2),
                        SET("disk", "read_ahead_kb", "1024", 3),
                        SET("disk", "scheduler", "mq-deadline", 4)));
        assert_target_keys(f, keys, ARRAY_SIZE(keys));
}

/* --- applying ------------------------------------------------------------ */

static void test_apply_writes_and_verifies_each_target(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st;

        st = apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "10", 1),
                                        SET("vm", "transparent_hugepages", "never", 2),
                                        SET("ksm", "run", "1", 3),
                                        SET("disk", "devices", "vda", 4),
                                        SET("disk", "scheduler", "mq-deadline,none", 5)));
        assert_int_equal(st.applied, 4);
        assert_int_equal(st.unchanged, 0);
        assert_int_equal(st.skipped, 0);
        assert_file(f, "proc/sys/vm/swappiness", "10\n");
        assert_file(f, THP_ENABLED, "never\n");
        assert_file(f, "sys/kernel/mm/ksm/run", "1\n");
        assert_file(f, "sys/block/vda/queue/scheduler", "mq-deadline\n");
        assert_int_equal(f->rb->n_entries, 4);
}

static void test_apply_skips_a_missing_knob_and_applies_the_rest(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st;

        st = apply(f, &f->root, PROFILE(SET("sysctl", "vm.no_such_knob", "1", 1),
                                        SET("sysctl", "vm.swappiness", "10", 2)));
        assert_int_equal(st.applied, 1);
        assert_int_equal(st.skipped, 1);
        assert_file(f, "proc/sys/vm/swappiness", "10\n");
        assert_false(tl_exists(f->dir, "root/proc/sys/vm/no_such_knob"));
        assert_null(rollback_find(f->rb, "proc/sys/vm/no_such_knob"));
}

static void test_apply_leaves_a_value_already_set_alone_and_records_nothing(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st;

        st = apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "60", 1),
                                        SET("vm", "transparent_hugepages", "madvise", 2)));
        assert_int_equal(st.unchanged, 2);
        assert_int_equal(st.applied, 0);
        assert_int_equal(f->rb->n_entries, 0);
        assert_false(tl_exists(f->dir, "run/rollback"));
        assert_file(f, THP_ENABLED, "always [madvise] never\n");
}

static void test_apply_in_dry_run_writes_nothing_and_records_nothing(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st;
        struct kroot dry;

        assert_int_equal(kroot_open(f->root_dir, true, &dry), 0);
        st = apply(f, &dry, PROFILE(SET("sysctl", "vm.swappiness", "10", 1),
                                    SET("vm", "transparent_hugepages", "never", 2),
                                    SET("disk", "read_ahead_kb", "4096", 3)));
        kroot_close(&dry);
        assert_int_equal(st.applied, 2 + 4); /* would be applied */
        assert_file(f, "proc/sys/vm/swappiness", "60\n");
        assert_file(f, THP_ENABLED, "always [madvise] never\n");
        assert_file(f, "sys/block/vda/queue/read_ahead_kb", "128\n");
        assert_int_equal(f->rb->n_entries, 0);
        assert_false(tl_exists(f->dir, "run/rollback"));
}

static void test_apply_only_if_greater_raises_but_never_lowers(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st;

        tl_write(f->dir, "root/sys/block/sda/queue/read_ahead_kb", "8192\n");
        st = apply(f, &f->root, PROFILE(SET("sysctl", "fs.aio-max-nr", ">1048576", 1),
                                        SET("disk", "devices", "sda,vdb", 2),
                                        SET("disk", "read_ahead_kb", ">4096", 3)));
        assert_int_equal(st.applied, 2);   /* aio-max-nr, vdb */
        assert_int_equal(st.unchanged, 1); /* sda: 8192 is more already */
        assert_file(f, "proc/sys/fs/aio-max-nr", "1048576\n");
        assert_file(f, "sys/block/vdb/queue/read_ahead_kb", "4096\n");
        assert_file(f, "sys/block/sda/queue/read_ahead_kb", "8192\n");
        assert_string_equal(rollback_find(f->rb, "proc/sys/fs/aio-max-nr")->written, "1048576");
        assert_null(rollback_find(f->rb, "sys/block/sda/queue/read_ahead_kb"));

        /* Equal is not smaller: nothing to do. */
        st = apply(f, &f->root, PROFILE(SET("sysctl", "fs.aio-max-nr", ">1048576", 1)));
        assert_int_equal(st.unchanged, 1);
}

static void test_apply_journal_holds_every_original_on_disk(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *text = NULL;
        struct rollback_entry *e = NULL;
        struct rollback *after_crash = NULL;
        bool stale = false;
        size_t n = 0;

        apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "10", 1),
                                   SET("vm", "transparent_hugepages", "never", 2),
                                   SET("disk", "devices", "vda", 3),
                                   SET("disk", "scheduler", "mq-deadline", 4)));
        text = tl_read(f->dir, "run/rollback");
        assert_non_null(text);
        assert_int_equal(rollback_parse(text, &e, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(e[0].key, "sysctl vm.swappiness");
        assert_string_equal(e[0].original, "60");
        assert_string_equal(e[0].written, "10");
        assert_string_equal(e[1].path, THP_ENABLED);
        assert_string_equal(e[1].original, "madvise");
        assert_string_equal(e[2].key, "disk vda scheduler");
        assert_string_equal(e[2].original, "none");
        assert_string_equal(e[2].written, "mq-deadline");
        rollback_entries_free(e, n);

        /* As if killed with -9 now: the next start finds them. */
        tl_journal_owner_died(f->rb);
        assert_int_equal(rollback_open(f->run_dir, &after_crash, &stale), 0);
        assert_true(stale);
        assert_int_equal(after_crash->n_entries, 3);
        rollback_free(after_crash);
}

static void test_apply_stops_without_writing_when_the_journal_cannot_be_written(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st = { 7, 7, 7 };

        /* rollback.tmp as a directory: the journal cannot be replaced. */
        tl_write(f->dir, "run/rollback.tmp/blocker", "");
        plan(f, PROFILE(SET("sysctl", "vm.swappiness", "10", 1)));
        assert_int_equal(settings_apply(&f->root, f->rb, &f->targets, &st), -EISDIR);
        assert_file(f, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(st.applied, 7); /* untouched on error */
        assert_int_equal(f->rb->n_entries, 0);
}

/* Refuse writes to a 0444 file also as root, by dropping CAP_DAC_OVERRIDE
 * from the effective set; it stays permitted and comes back after. */
static void dac_override(bool on)
{
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        assert_int_equal(syscall(SYS_capget, &h, d), 0);
        if (on)
                d[0].effective |= d[0].permitted & (1u << CAP_DAC_OVERRIDE);
        else
                d[0].effective &= ~(1u << CAP_DAC_OVERRIDE);
        assert_int_equal(syscall(SYS_capset, &h, d), 0);
}

static struct apply_stats apply_with_readonly_swappiness(struct fixture *f, const struct profile *p)
{
        _cleanup_free_ char *path = xasprintf("%s/proc/sys/vm/swappiness", f->root_dir);
        struct apply_stats st;

        assert_int_equal(chmod(path, 0444), 0);
        dac_override(false);
        st = apply(f, &f->root, p);
        dac_override(true);
        return st;
}

static void test_apply_refused_write_is_forgotten_and_the_rest_applies(void **state)
{
        struct fixture *f = *state;
        struct apply_stats st;

        st = apply_with_readonly_swappiness(f, PROFILE(SET("sysctl", "vm.swappiness", "10", 1),
                                                       SET("sysctl", "vm.dirty_ratio", "5", 2)));
        assert_int_equal(st.skipped, 1);
        assert_int_equal(st.applied, 1);
        assert_file(f, "proc/sys/vm/swappiness", "60\n");
        assert_file(f, "proc/sys/vm/dirty_ratio", "5\n");
        assert_null(rollback_find(f->rb, "proc/sys/vm/swappiness"));
        assert_int_equal(f->rb->n_entries, 1);
}

static void test_apply_refused_rewrite_keeps_the_earlier_journal_entry(void **state)
{
        struct fixture *f = *state;
        const struct rollback_entry *e;
        struct apply_stats st;

        apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "10", 1)));
        tl_write(f->dir, "root/proc/sys/vm/swappiness", "30\n");
        st = apply_with_readonly_swappiness(f, PROFILE(SET("sysctl", "vm.swappiness", "5", 1)));
        assert_int_equal(st.skipped, 1);
        e = rollback_find(f->rb, "proc/sys/vm/swappiness");
        assert_non_null(e);
        assert_string_equal(e->original, "60"); /* the value from before vmtuned */
        assert_string_equal(e->written, "10");
}

/* A daemon killed between journaling a switch's new value (10) and
 * writing it left the kernel at its earlier value (5); the next daemon's
 * profile wants 5. The value is vmtuned's: the stop must restore the
 * original, not leave 5 as "changed by someone else" (the chaos run). */
static void test_apply_claims_a_wanted_value_the_journal_says_was_not_written(void **state)
{
        struct fixture *f = *state;
        const struct rollback_entry *e;
        struct apply_stats st;

        apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "5", 1)));
        assert_int_equal(rollback_record(f->rb, "sysctl vm.swappiness", "proc/sys/vm/swappiness", "60", "10"), 0);
        st = apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "5", 1)));
        assert_int_equal(st.unchanged, 1);
        e = rollback_find(f->rb, "proc/sys/vm/swappiness");
        assert_non_null(e);
        assert_string_equal(e->original, "60");
        assert_string_equal(e->written, "5");
        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        assert_file(f, "proc/sys/vm/swappiness", "60\n");
}

static void test_apply_value_the_kernel_adjusted_is_skipped_and_kept_for_restore(void **state)
{
        struct fixture *f = *state;
        const struct rollback_entry *e;
        struct apply_stats st;

        _cleanup_free_ char *clamped = xasprintf("%s/root/proc/sys/vm/clamped", f->dir);

        /* /dev/null takes any write and reads back empty, like a knob the
         * kernel clamps. Made in the root: kfile follows no link out of it. */
        if (mknod(clamped, S_IFCHR | 0666, makedev(1, 3)) < 0 && errno == EPERM)
                skip(); /* not root */
        assert_true(tl_exists(f->dir, "root/proc/sys/vm/clamped"));
        st = apply(f, &f->root, PROFILE(SET("sysctl", "vm.clamped", "10", 1)));
        assert_int_equal(st.skipped, 1);
        assert_int_equal(st.applied, 0);
        e = rollback_find(f->rb, "proc/sys/vm/clamped");
        assert_non_null(e);
        assert_string_equal(e->written, ""); /* what the kernel holds, so restore knows it as ours */
}

static void test_apply_then_restore_gives_back_every_original_byte_for_byte(void **state)
{
        struct fixture *f = *state;
        const char *const plain[] = {
                "proc/sys/vm/swappiness", "proc/sys/vm/dirty_ratio", "proc/sys/fs/aio-max-nr",
                "sys/kernel/mm/ksm/run", "sys/block/vda/queue/read_ahead_kb",
                "sys/block/vda/queue/nr_requests", "sys/block/sda/queue/read_ahead_kb",
                "sys/block/sda/queue/nr_requests",
        };
        char *before[ARRAY_SIZE(plain)];
        char value[64];
        struct apply_stats st;

        for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
                _cleanup_free_ char *rel = xasprintf("root/%s", plain[i]);
                before[i] = tl_read(f->dir, rel);
                assert_non_null(before[i]);
        }
        st = apply(f, &f->root, PROFILE(SET("sysctl", "vm.swappiness", "10", 1),
                                        SET("sysctl", "vm.dirty_ratio", "5", 2),
                                        SET("sysctl", "fs.aio-max-nr", ">1048576", 3),
                                        SET("vm", "transparent_hugepages", "never", 4),
                                        SET("ksm", "run", "1", 5),
                                        SET("disk", "devices", "vda,sda", 6),
                                        SET("disk", "scheduler", "kyber,none", 7),
                                        SET("disk", "read_ahead_kb", "4096", 8),
                                        SET("disk", "nr_requests", "64", 9)));
        assert_int_equal(st.applied, 11);
        assert_file(f, "sys/block/vda/queue/scheduler", "kyber\n");

        assert_int_equal(rollback_restore_all(f->rb, &f->root), 0);
        for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
                assert_file(f, plain[i], before[i]);
                free(before[i]);
        }
        /* A fixture file cannot show choices the way the kernel does, so
         * selectors are compared by their selected value. */
        assert_int_equal(kfile_read_value(&f->root, THP_ENABLED, value, sizeof(value)), 0);
        assert_string_equal(value, "madvise");
        assert_int_equal(kfile_read_value(&f->root, "sys/block/vda/queue/scheduler", value, sizeof(value)), 0);
        assert_string_equal(value, "none");
        assert_int_equal(kfile_read_value(&f->root, "sys/block/sda/queue/scheduler", value, sizeof(value)), 0);
        assert_string_equal(value, "mq-deadline");
        assert_false(tl_exists(f->dir, "run/rollback"));
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_plan_maps_sysctl_vm_and_ksm_keys_to_their_files),
                T(test_plan_turns_greater_prefix_into_only_if_greater),
                T(test_plan_leaves_the_knobs_the_ksm_module_writes_to_it),
                cmocka_unit_test(test_device_matches_by_default_every_disk_but_loop_ram_and_zram),
                cmocka_unit_test(test_device_matches_negation_wins_and_virtual_disks_need_their_own_glob),
                T(test_plan_disk_rules_follow_the_device_globs_with_negation),
                T(test_plan_default_devices_skip_loop_and_zram_but_a_loop_glob_matches),
                T(test_plan_scheduler_falls_back_to_the_first_one_offered),
                T(test_plan_scheduler_none_of_which_is_offered_gives_no_target),
                T(test_plan_notes_an_unknown_key_and_plans_the_rest),
                T(test_plan_never_targets_a_partition),
                T(test_plan_device_without_a_scheduler_gets_only_the_knobs_it_has),
                T(test_plan_orders_scheduler_before_queue_knobs_per_device),
                T(test_apply_writes_and_verifies_each_target),
                T(test_apply_skips_a_missing_knob_and_applies_the_rest),
                T(test_apply_leaves_a_value_already_set_alone_and_records_nothing),
                T(test_apply_in_dry_run_writes_nothing_and_records_nothing),
                T(test_apply_only_if_greater_raises_but_never_lowers),
                T(test_apply_journal_holds_every_original_on_disk),
                T(test_apply_stops_without_writing_when_the_journal_cannot_be_written),
                T(test_apply_refused_write_is_forgotten_and_the_rest_applies),
                T(test_apply_refused_rewrite_keeps_the_earlier_journal_entry),
                T(test_apply_claims_a_wanted_value_the_journal_says_was_not_written),
                T(test_apply_value_the_kernel_adjusted_is_skipped_and_kept_for_restore),
                T(test_apply_then_restore_gives_back_every_original_byte_for_byte),
        };
#undef T

        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
