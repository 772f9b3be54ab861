/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hot-plug on a fixture root: which disks a profile's [disk] rules reach
 * (virtio, SCSI, NVMe, device-mapper and its paths; partitions, loop and
 * zram only when named), what a kernel uevent means (a CPU's "online"
 * too), and what an added, changed or removed disk does to the settings
 * and the rollback journal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuning/hotplug.h"
#include "base/kfile.h"
#include "config/profile.h"
#include "tuning/rollback.h"
#include "tuning/plan.h"
#include "testlib.h"
#include "base/util.h"

#define SET(k, v) { .section = (char *) "disk", .key = (char *) (k), .value = (char *) (v), \
                    .file = (char *) "profiles/test.conf", .line = 1 }
#define PROFILE(...) TL_PROFILE("test", __VA_ARGS__)
#define DEADLINE PROFILE(SET("scheduler", "mq-deadline,none"))

struct fixture {
        char *dir;
        struct kroot root;
        struct rollback *rb;
        struct hotplug *hp;
};

static void put(struct fixture *f, const char *rel, const char *content)
{
        _cleanup_free_ char *path = xasprintf("root/%s", rel);

        tl_write(f->dir, path, content);
}

/* A disk as sysfs shows it: sys/block/DEV -> ../devices/.../block/DEV. */
static void disk(struct fixture *f, const char *parent, const char *dev, const char *scheduler)
{
        _cleanup_free_ char *base = xasprintf("sys/devices/%s/block/%s", parent, dev);
        _cleanup_free_ char *sched = xasprintf("%s/queue/scheduler", base);
        _cleanup_free_ char *ra = xasprintf("%s/queue/read_ahead_kb", base);
        _cleanup_free_ char *link = xasprintf("root/sys/block/%s", dev);
        _cleanup_free_ char *target = xasprintf("../devices/%s/block/%s", parent, dev);

        if (scheduler)
                put(f, sched, scheduler);
        put(f, ra, "128\n");
        tl_symlink(f->dir, link, target);
}

/* dev is a path (slave) of holder: holders/HOLDER in sysfs. */
static void holder(struct fixture *f, const char *dev, const char *holder_dev)
{
        _cleanup_free_ char *rel = xasprintf("root/sys/block/%s/holders/%s", dev, holder_dev);
        _cleanup_free_ char *target = xasprintf("../../%s", holder_dev);

        tl_symlink(f->dir, rel, target);
}

static int setup(void **state)
{
        struct fixture *f = xcalloc(1, sizeof(*f));

        f->dir = tl_mkdtemp("vmtuned-test-hotplug");
        disk(f, "pci0000:00/0000:00:04.0/virtio2", "vda", "[none] mq-deadline kyber bfq\n");
        put(f, "sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda/vda1/partition", "1\n");
        disk(f, "pci0000:00/0000:00:05.0/host0/target0:0:0/0:0:0:0", "sda", "[mq-deadline] kyber bfq none\n");
        disk(f, "pci0000:00/0000:00:06.0/nvme/nvme0", "nvme0n1", "[none] mq-deadline\n");
        /* dm-0: request-based multipath over sdb and sdc; dm-1: LVM (bio-based) on sdd. */
        disk(f, "pci0000:00/0000:00:07.0/host1/target1:0:0/1:0:0:0", "sdb", "[mq-deadline] none\n");
        disk(f, "pci0000:00/0000:00:07.0/host2/target2:0:0/2:0:0:0", "sdc", "[mq-deadline] none\n");
        disk(f, "pci0000:00/0000:00:07.0/host3/target3:0:0/3:0:0:0", "sdd", "[bfq] mq-deadline none\n");
        disk(f, "virtual", "dm-0", "[none] mq-deadline kyber bfq\n");
        disk(f, "virtual", "dm-1", "none\n");
        holder(f, "sdb", "dm-0");
        holder(f, "sdc", "dm-0");
        holder(f, "sdd", "dm-1");
        disk(f, "virtual", "loop0", "[none] mq-deadline kyber bfq\n");
        disk(f, "virtual", "zram0", NULL);

        tl_open_root_and_journal(f->dir, &f->root, &f->rb);
        assert_int_equal(hotplug_new(NULL, &(struct hotplug_options){ .root = &f->root, .rollback = f->rb,
                                                                      .source = HOTPLUG_SOURCE_NONE }, &f->hp), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        hotplug_free(f->hp);
        tl_close_root_and_journal(f->dir, &f->root, f->rb);
        free(f);
        return 0;
}

/* The scheduler settings_plan_device plans for dev ("" if none), or NULL
 * when it refuses the name (r < 0). */
static char *planned(struct fixture *f, const struct profile *p, const char *dev, int *ret_r)
{
        struct target_list l = {};
        char *v = NULL;
        int r;

        r = settings_plan_device(&f->root, p, dev, &l);
        if (ret_r)
                *ret_r = r;
        if (r < 0)
                return NULL;
        for (size_t i = 0; i < l.n; i++)
                if (strstr(l.v[i].key, " scheduler"))
                        v = xstrdup(l.v[i].value);
        target_list_free(&l);
        return v ? v : xstrdup("");
}

static void assert_planned(struct fixture *f, const struct profile *p, const char *dev, const char *want)
{
        _cleanup_free_ char *have = planned(f, p, dev, NULL);

        assert_non_null(have);
        if (!streq(have, want))
                fail_msg("%s: planned scheduler \"%s\", want \"%s\"", dev, have, want);
}

static char *file(struct fixture *f, const char *rel)
{
        _cleanup_free_ char *path = xasprintf("root/%s", rel);
        char *s = tl_read(f->dir, path);

        assert_non_null(s);
        return kfile_selected(kfile_normalize(s));
}

/* --- matching --------------------------------------------------------------- */

static void test_default_rules_reach_virtio_scsi_nvme_and_dm_but_not_loop_or_zram(void **state)
{
        struct fixture *f = *state;

        assert_planned(f, DEADLINE, "vda", "mq-deadline");
        assert_planned(f, DEADLINE, "sda", "mq-deadline");
        assert_planned(f, DEADLINE, "nvme0n1", "mq-deadline");
        assert_planned(f, DEADLINE, "dm-0", "mq-deadline");
        assert_planned(f, DEADLINE, "dm-1", "none");     /* bio-based: all it offers */
        assert_planned(f, DEADLINE, "loop0", "");
        assert_planned(f, DEADLINE, "zram0", "");
}

static void test_paths_of_request_based_dm_are_skipped_disks_under_lvm_are_not(void **state)
{
        struct fixture *f = *state;
        struct target_list l = {};

        assert_planned(f, DEADLINE, "sdb", "");
        assert_planned(f, DEADLINE, "sdc", "");
        assert_planned(f, DEADLINE, "sdd", "mq-deadline");

        /* The start-up plan uses the same rule. */
        assert_int_equal(settings_plan(&f->root, DEADLINE, &l), 0);
        for (size_t i = 0; i < l.n; i++) {
                assert_null(strstr(l.v[i].key, "sdb"));
                assert_null(strstr(l.v[i].key, "sdc"));
        }
        assert_int_equal(l.n, 6); /* dm-0, dm-1, nvme0n1, sda, sdd, vda */
        target_list_free(&l);
}

static void test_loop_and_zram_only_when_named_and_globs_select(void **state)
{
        struct fixture *f = *state;

        assert_planned(f, PROFILE(SET("devices", "loop*"), SET("scheduler", "mq-deadline")), "loop0", "mq-deadline");
        assert_planned(f, PROFILE(SET("devices", "loop*"), SET("scheduler", "mq-deadline")), "vda", "");
        assert_planned(f, PROFILE(SET("devices", "*"), SET("scheduler", "mq-deadline")), "loop0", "");
        assert_planned(f, PROFILE(SET("devices", "nvme*n*"), SET("scheduler", "mq-deadline")), "nvme0n1", "mq-deadline");
        assert_planned(f, PROFILE(SET("devices", "nvme*n*"), SET("scheduler", "mq-deadline")), "sda", "");
        assert_planned(f, PROFILE(SET("devices", "sd*,vd*,!sda"), SET("scheduler", "mq-deadline")), "sda", "");
        assert_planned(f, PROFILE(SET("devices", "dm-*"), SET("scheduler", "mq-deadline")), "dm-0", "mq-deadline");
        assert_false(settings_device_matches((const char *const[]){ "nvme*n*" }, 1, "nvme0"));
        assert_true(settings_device_matches((const char *const[]){ "zram*" }, 1, "zram0"));
}

static void test_partitions_and_bad_names_are_refused(void **state)
{
        struct fixture *f = *state;
        int r;

        assert_null(planned(f, DEADLINE, "vda1", &r));
        assert_int_equal(r, -ENOENT);
        assert_null(planned(f, DEADLINE, "sdz", &r));
        assert_int_equal(r, -ENOENT);
        assert_null(planned(f, DEADLINE, "..", &r));
        assert_int_equal(r, -EINVAL);
        assert_null(planned(f, DEADLINE, "vda/queue", &r));
        assert_int_equal(r, -EINVAL);
        assert_null(planned(f, DEADLINE, "", &r));
        assert_int_equal(r, -EINVAL);
}

/* --- uevents --------------------------------------------------------------------- */

static void test_kernel_uevent_parses_to_action_subsystem_devtype_and_sysname(void **state)
{
        static const char add[] = "add@/devices/virtual/block/loop77\0ACTION=add\0"
                                  "DEVPATH=/devices/virtual/block/loop77\0SUBSYSTEM=block\0MAJOR=7\0MINOR=77\0"
                                  "DEVNAME=loop77\0DEVTYPE=disk\0DISKSEQ=13\0SEQNUM=1221";
        static const char cciss[] = "remove@/devices/pci/cciss0/block/cciss!c0d0\0ACTION=remove\0"
                                    "DEVPATH=/devices/pci/cciss0/block/cciss!c0d0\0SUBSYSTEM=block\0DEVTYPE=disk";
        struct hotplug_uevent ev;

        assert_int_equal(hotplug_uevent_parse(add, sizeof(add), &ev), 0);
        assert_int_equal(ev.action, HOTPLUG_ADD);
        assert_string_equal(ev.subsystem, "block");
        assert_string_equal(ev.devtype, "disk");
        assert_string_equal(ev.sysname, "loop77");
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_ADD);

        /* sysfs spells '/' in a disk name as '!', as sys/block does. */
        assert_int_equal(hotplug_uevent_parse(cciss, sizeof(cciss), &ev), 0);
        assert_int_equal(ev.action, HOTPLUG_REMOVE);
        assert_string_equal(ev.sysname, "cciss!c0d0");
}

static void test_uevents_that_are_not_whole_disks_or_not_from_the_kernel_are_ignored(void **state)
{
        static const char part[] = "add@/devices/virtual/block/loop0/loop0p1\0ACTION=add\0"
                                   "DEVPATH=/devices/virtual/block/loop0/loop0p1\0SUBSYSTEM=block\0DEVTYPE=partition";
        static const char bdi[] = "add@/devices/virtual/bdi/7:77\0ACTION=add\0DEVPATH=/devices/virtual/bdi/7:77\0"
                                  "SUBSYSTEM=bdi";
        static const char bind[] = "bind@/devices/virtual/block/vda\0ACTION=bind\0DEVPATH=/devices/virtual/block/vda\0"
                                   "SUBSYSTEM=block\0DEVTYPE=disk";
        static const char udev[] = "libudev\0\xfe\xed\xca\xfe\0\0\0";
        static const char unterminated[] = { 'a', 'd', 'd', '@', '/', 'x', '\0', 'D', 'E', 'V' };
        struct hotplug_uevent ev;

        assert_int_equal(hotplug_uevent_parse(part, sizeof(part), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_IGNORE);
        assert_int_equal(hotplug_uevent_parse(bdi, sizeof(bdi), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_IGNORE);
        assert_int_equal(hotplug_uevent_parse(bind, sizeof(bind), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_IGNORE);
        assert_int_equal(hotplug_uevent_parse(udev, sizeof(udev), &ev), -EINVAL);
        assert_int_equal(hotplug_uevent_parse(unterminated, sizeof(unterminated), &ev), -EINVAL);
        assert_int_equal(hotplug_uevent_parse("add@/x", 6, &ev), -EINVAL);
}

static void test_change_counts_as_add_only_for_a_disk_vmtuned_has_not_set(void **state)
{
        static const char change[] = "change@/devices/virtual/block/loop0\0ACTION=change\0"
                                     "DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0DEVTYPE=disk";
        struct hotplug_uevent ev;

        assert_int_equal(hotplug_uevent_parse(change, sizeof(change), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_CHANGE);
        assert_int_equal(hotplug_classify(&ev, true), HOTPLUG_IGNORE);
}

/* A CPU coming online gets the profile's [cpu] values (test-cpu.c acts on
 * it); going offline, or a CPU's other events, and "online" of a disk mean
 * nothing. */
static void test_cpu_online_counts_offline_and_other_cpu_events_do_not(void **state)
{
        static const char online[] = "online@/devices/system/cpu/cpu1\0ACTION=online\0"
                                     "DEVPATH=/devices/system/cpu/cpu1\0SUBSYSTEM=cpu";
        static const char offline[] = "offline@/devices/system/cpu/cpu1\0ACTION=offline\0"
                                      "DEVPATH=/devices/system/cpu/cpu1\0SUBSYSTEM=cpu";
        static const char add[] = "add@/devices/system/cpu/cpu1\0ACTION=add\0DEVPATH=/devices/system/cpu/cpu1\0"
                                  "SUBSYSTEM=cpu";
        static const char disk_online[] = "online@/devices/virtual/block/vda\0ACTION=online\0"
                                          "DEVPATH=/devices/virtual/block/vda\0SUBSYSTEM=block\0DEVTYPE=disk";
        struct hotplug_uevent ev;

        assert_int_equal(hotplug_uevent_parse(online, sizeof(online), &ev), 0);
        assert_string_equal(ev.subsystem, "cpu");
        assert_string_equal(ev.sysname, "cpu1");
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_ONLINE);
        assert_int_equal(hotplug_uevent_parse(offline, sizeof(offline), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_IGNORE);
        assert_int_equal(hotplug_uevent_parse(add, sizeof(add), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_IGNORE);
        assert_int_equal(hotplug_uevent_parse(disk_online, sizeof(disk_online), &ev), 0);
        assert_int_equal(hotplug_classify(&ev, false), HOTPLUG_IGNORE);
}

/* --- acting ------------------------------------------------------------------------- */

static void test_added_disk_gets_the_profile_and_a_journal_entry_removed_disk_loses_it(void **state)
{
        struct fixture *f = *state;
        const struct profile *p = PROFILE(SET("devices", "sd*,loop*"), SET("scheduler", "kyber,none"),
                                          SET("read_ahead_kb", "4096"));
        const struct rollback_entry *e;
        _cleanup_free_ char *sched = NULL, *ra = NULL;

        hotplug_set_profile(f->hp, p);
        assert_int_equal(hotplug_handle(f->hp, HOTPLUG_ADD, "loop0"), 0);
        sched = file(f, "sys/block/loop0/queue/scheduler");
        ra = file(f, "sys/block/loop0/queue/read_ahead_kb");
        assert_string_equal(sched, "kyber");
        assert_string_equal(ra, "4096");
        e = rollback_find(f->rb, "sys/block/loop0/queue/scheduler");
        assert_non_null(e);
        assert_string_equal(e->original, "none");
        assert_true(hotplug_tracked(f->rb, "loop0"));
        assert_false(hotplug_tracked(f->rb, "loop"));   /* a prefix of the name is another disk */

        /* vda is not in devices=: nothing. */
        assert_int_equal(hotplug_handle(f->hp, HOTPLUG_ADD, "vda"), 0);
        assert_false(hotplug_tracked(f->rb, "vda"));
        assert_int_equal(f->rb->n_entries, 2);

        assert_int_equal(hotplug_handle(f->hp, HOTPLUG_REMOVE, "loop0"), 0);
        assert_false(hotplug_tracked(f->rb, "loop0"));
        assert_int_equal(f->rb->n_entries, 0);
}

static void test_change_does_not_undo_the_administrators_edit_and_paused_tunes_nothing(void **state)
{
        struct fixture *f = *state;
        _cleanup_free_ char *sched = NULL, *after = NULL;

        hotplug_set_profile(f->hp, DEADLINE);
        assert_int_equal(hotplug_handle(f->hp, HOTPLUG_CHANGE, "vda"), 0);
        sched = file(f, "sys/block/vda/queue/scheduler");
        assert_string_equal(sched, "mq-deadline");
        put(f, "sys/devices/pci0000:00/0000:00:04.0/virtio2/block/vda/queue/scheduler", "bfq\n");
        assert_int_equal(hotplug_handle(f->hp, HOTPLUG_CHANGE, "vda"), 0);
        after = file(f, "sys/block/vda/queue/scheduler");
        assert_string_equal(after, "bfq");

        hotplug_set_profile(f->hp, NULL);
        assert_int_equal(hotplug_handle(f->hp, HOTPLUG_ADD, "sda"), 0);
        assert_false(hotplug_tracked(f->rb, "sda"));
        assert_int_equal(hotplug_get_source(f->hp), HOTPLUG_SOURCE_NONE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_default_rules_reach_virtio_scsi_nvme_and_dm_but_not_loop_or_zram,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_paths_of_request_based_dm_are_skipped_disks_under_lvm_are_not,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_loop_and_zram_only_when_named_and_globs_select, setup, teardown),
                cmocka_unit_test_setup_teardown(test_partitions_and_bad_names_are_refused, setup, teardown),
                cmocka_unit_test(test_kernel_uevent_parses_to_action_subsystem_devtype_and_sysname),
                cmocka_unit_test(test_uevents_that_are_not_whole_disks_or_not_from_the_kernel_are_ignored),
                cmocka_unit_test(test_change_counts_as_add_only_for_a_disk_vmtuned_has_not_set),
                cmocka_unit_test(test_cpu_online_counts_offline_and_other_cpu_events_do_not),
                cmocka_unit_test_setup_teardown(test_added_disk_gets_the_profile_and_a_journal_entry_removed_disk_loses_it,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_change_does_not_undo_the_administrators_edit_and_paused_tunes_nothing,
                                                setup, teardown),
        };
        return cmocka_run_group_tests_name("hotplug matching", tests, NULL, NULL);
}
