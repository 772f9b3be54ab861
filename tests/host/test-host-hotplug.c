/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Opt-in host suite (make check-host, root): block hot-plug on the real
 * kernel, with the hotplug module on an sd-event loop as the daemon runs it.
 * The profile says devices=loop* (loop devices are left alone otherwise)
 * and a scheduler the new device does not have yet.
 *
 * Two ways a loop device "appears":
 * - a new one (LOOP_CTL_ADD): the kernel sends "add", and at the end
 *   LOOP_CTL_REMOVE sends "remove": the journal entry must go;
 * - losetup -f on an existing free one (loop0..7 exist from boot): the
 *   kernel sends only "change" on attach and detach; the device and its
 *   queue settings stay, so the journal keeps the entry and a restore puts
 *   the original back.
 * Latency is measured from the kernel call to the scheduler being set and
 * reported, not asserted against a tight bound (the wait is up to 10 s).
 * Every loop device made or attached is detached and removed again, and
 * every scheduler put back, also when an assertion fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "tuning/hotplug.h"
#include "base/kfile.h"
#include "config/profile.h"
#include "tuning/rollback.h"
#include "testlib.h"
#include "base/util.h"

#define WAIT_SEC 10.0

#define SET(k, v) { .section = (char *) "disk", .key = (char *) (k), .value = (char *) (v), \
                    .file = (char *) "test-host-hotplug", .line = 1 }

static char *workdir, *image;
static struct kroot root = { .dirfd = -1 };
static struct rollback *rb;
static sd_event *event;
static struct hotplug *hp;
static const char *want;        /* the scheduler the profile asks for */
static struct profile profile;

/* What the test made, for the clean-up. */
static int added_index = -1;        /* LOOP_CTL_ADD */
static char attached[2][64];        /* /dev/loopN attached to image */
static struct { char dev[32]; char scheduler[64]; } touched[2];

static double now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool scheduler_of(const char *dev, char *buf, size_t size)
{
        _cleanup_free_ char *rel = xasprintf("sys/block/%s/queue/scheduler", dev);

        return kfile_read_value(&root, rel, buf, size) == 0;
}

static void set_scheduler(const char *dev, const char *value)
{
        _cleanup_free_ char *rel = xasprintf("sys/block/%s/queue/scheduler", dev);

        if (kfile_write(&root, rel, value) < 0)
                fprintf(stderr, "host test: cannot put %s's scheduler back to %s\n", dev, value);
}

/* tl_run execs without a PATH search. */
static const char *losetup_bin(void)
{
        return access("/usr/sbin/losetup", X_OK) == 0 ? "/usr/sbin/losetup" : "/sbin/losetup";
}

static int losetup(const char *a, const char *b, const char *c, char **ret_out)
{
        char *argv[] = { (char *) losetup_bin(), (char *) a, (char *) b, (char *) c, NULL };
        int r;
        char *out = tl_run_trimmed(argv, &r);

        if (ret_out)
                *ret_out = out;
        else
                free(out);
        return r;
}

static void remember_scheduler(size_t slot, const char *dev)
{
        snprintf(touched[slot].dev, sizeof(touched[slot].dev), "%s", dev);
        if (!scheduler_of(dev, touched[slot].scheduler, sizeof(touched[slot].scheduler)))
                touched[slot].dev[0] = '\0';
}

/* The safety net: detach, remove, put schedulers back. */
static void cleanup(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(attached); i++)
                if (attached[i][0]) {
                        (void) losetup("-d", attached[i], NULL, NULL);
                        attached[i][0] = '\0';
                }
        for (size_t i = 0; i < ARRAY_SIZE(touched); i++) {
                char now[64];

                if (touched[i].dev[0] && scheduler_of(touched[i].dev, now, sizeof(now)) &&
                    !streq(now, touched[i].scheduler)) {
                        fprintf(stderr, "host test: putting %s's scheduler back to %s\n", touched[i].dev,
                                touched[i].scheduler);
                        set_scheduler(touched[i].dev, touched[i].scheduler);
                }
                touched[i].dev[0] = '\0';
        }
        if (added_index >= 0) {
                int fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);

                if (fd < 0 || ioctl(fd, LOOP_CTL_REMOVE, added_index) < 0)
                        fprintf(stderr, "host test: cannot remove loop%d: %m\n", added_index);
                if (fd >= 0)
                        close(fd);
                added_index = -1;
        }
        if (image)
                (void) unlink(image);
}

static int setup(void **state)
{
        _cleanup_free_ char *run = NULL;
        bool stale;
        int fd;

        if (!tl_running_as_root())
                return -1;
        if (access("/dev/loop-control", W_OK) < 0) {
                fprintf(stderr, "no /dev/loop-control (loop module?)\n");
                return -1;
        }
        atexit(cleanup);
        workdir = tl_mkdtemp("vmtuned-host-hotplug");
        image = xasprintf("%s/disk.img", workdir);
        fd = open(image, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 || ftruncate(fd, 16 << 20) < 0)
                return -1;
        close(fd);
        run = xasprintf("%s/run", workdir);
        if (kroot_open("/", false, &root) < 0 || rollback_open(run, &rb, &stale) < 0)
                return -1;
        if (sd_event_new(&event) < 0)
                return -1;
        if (hotplug_new(event, &(struct hotplug_options){ .root = &root, .rollback = rb,
                                                          .source = HOTPLUG_SOURCE_AUTO }, &hp) < 0)
                return -1;
        fprintf(stderr, "listening to %s uevents\n",
                hotplug_get_source(hp) == HOTPLUG_SOURCE_UDEV ? "udev's" : "the kernel's");
        return 0;
}

static int teardown(void **state)
{
        hotplug_free(hp);
        hp = NULL;
        sd_event_unref(event);
        event = NULL;
        cleanup();
        if (rb && rb->n_entries > 0)
                (void) rollback_restore_all(rb, &root);
        rollback_free(rb);
        rb = NULL;
        kroot_close(&root);
        tl_rm_rf(workdir);
        free(workdir);
        free(image);
        image = NULL;
        return 0;
}

/* Run the loop until dev's scheduler is want (or not tracked any more
 * when !tracked_wanted); the seconds it took, or -1 after WAIT_SEC. */
static double run_until(const char *dev, bool scheduler_wanted, bool tracked_wanted, double since)
{
        while (now_sec() - since < WAIT_SEC) {
                char sched[64];

                assert_true(sd_event_run(event, 50 * 1000) >= 0);
                if (scheduler_wanted && scheduler_of(dev, sched, sizeof(sched)) && streq(sched, want) &&
                    hotplug_tracked(rb, dev))
                        return now_sec() - since;
                if (!scheduler_wanted && hotplug_tracked(rb, dev) == tracked_wanted)
                        return now_sec() - since;
        }
        return -1;
}

/* Let the loop handle whatever comes in the next sec seconds. */
static void drain(double sec)
{
        double start = now_sec();

        while (now_sec() - start < sec)
                assert_true(sd_event_run(event, 50 * 1000) >= 0);
}

/* A scheduler dev offers and does not have. */
static void choose_profile(const char *dev)
{
        static const char *const choices[] = { "mq-deadline", "kyber", "bfq", "none" };
        static struct setting settings[2] = { SET("devices", "loop*"), SET("scheduler", "") };
        char line[256], sched[64];
        _cleanup_free_ char *rel = xasprintf("sys/block/%s/queue/scheduler", dev);

        assert_int_equal(kfile_read(&root, rel, line, sizeof(line)), 0);
        assert_true(scheduler_of(dev, sched, sizeof(sched)));
        want = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(choices) && !want; i++)
                if (kfile_selector_offers(line, choices[i]) && !streq(sched, choices[i]))
                        want = choices[i];
        if (!want)
                skip();
        settings[1].value = (char *) want;
        profile = (struct profile){ .name = (char *) "host-hotplug", .settings = settings, .n_settings = 2 };
        hotplug_set_profile(hp, &profile);
}

static int free_loop_index(void)
{
        for (int i = 64; i < 512; i++) {
                char path[64];

                snprintf(path, sizeof(path), "/sys/block/loop%d", i);
                if (access(path, F_OK) < 0)
                        return i;
        }
        return -1;
}

static void test_new_loop_device_gets_the_scheduler_and_its_removal_drops_the_journal_entry(void **state)
{
        char dev[32], path[64];
        double t0, latency;
        int fd, index = free_loop_index();

        assert_true(index >= 0);
        snprintf(dev, sizeof(dev), "loop%d", index);
        hotplug_set_profile(hp, NULL);

        fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        t0 = now_sec();
        assert_int_equal(ioctl(fd, LOOP_CTL_ADD, index), index);
        added_index = index;
        close(fd);
        /* The uevent waits in the socket until the loop runs: time to
         * pick a scheduler the new device does not have. */
        choose_profile(dev);
        latency = run_until(dev, true, true, t0);
        if (latency < 0)
                fail_msg("%s did not get scheduler %s within %.0f s", dev, want, WAIT_SEC);
        fprintf(stderr, "%s (new, \"add\"): scheduler %s after %.1f ms\n", dev, want, latency * 1000);

        /* Attach and detach: "change" events for a disk already tuned: nothing more. */
        snprintf(path, sizeof(path), "/dev/%s", dev);
        assert_int_equal(losetup(path, image, NULL, NULL), 0);
        snprintf(attached[0], sizeof(attached[0]), "%s", path);
        assert_int_equal(losetup("-d", path, NULL, NULL), 0);
        attached[0][0] = '\0';
        drain(0.5);
        assert_true(hotplug_tracked(rb, dev));

        /* Gone: the kernel forgot its settings, and so does the journal. */
        fd = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        t0 = now_sec();
        assert_int_equal(ioctl(fd, LOOP_CTL_REMOVE, index), 0);
        added_index = -1;
        close(fd);
        latency = run_until(dev, false, false, t0);
        if (latency < 0)
                fail_msg("%s's journal entry still there %.0f s after it was removed", dev, WAIT_SEC);
        fprintf(stderr, "%s removed: journal entry dropped after %.1f ms\n", dev, latency * 1000);
}

static void test_losetup_f_on_an_existing_loop_device_tunes_it_on_change_and_restore_undoes_it(void **state)
{
        char *dev_path = NULL, sched[64];
        const char *dev;
        double t0, latency;

        /* The device losetup -f will take: snapshot it first. */
        assert_int_equal(losetup("-f", NULL, NULL, &dev_path), 0);
        assert_true(startswith(dev_path, "/dev/loop"));
        dev = dev_path + strlen("/dev/");
        remember_scheduler(0, dev);
        choose_profile(dev);

        t0 = now_sec();
        assert_int_equal(losetup(dev_path, image, NULL, NULL), 0);
        snprintf(attached[1], sizeof(attached[1]), "%s", dev_path);
        latency = run_until(dev, true, true, t0);
        if (latency < 0)
                fail_msg("%s did not get scheduler %s within %.0f s of losetup", dev, want, WAIT_SEC);
        fprintf(stderr, "%s (existing, attached: \"change\"): scheduler %s after %.1f ms\n", dev, want,
                latency * 1000);

        /* Detached, the device stays with its queue: the entry stays, and the restore puts it back. */
        assert_int_equal(losetup("-d", dev_path, NULL, NULL), 0);
        attached[1][0] = '\0';
        drain(0.5);
        assert_true(hotplug_tracked(rb, dev));
        assert_true(rollback_restore_all(rb, &root) == 0);
        assert_true(scheduler_of(dev, sched, sizeof(sched)));
        assert_string_equal(sched, touched[0].scheduler);
        free(dev_path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_new_loop_device_gets_the_scheduler_and_its_removal_drops_the_journal_entry),
                cmocka_unit_test(test_losetup_f_on_an_existing_loop_device_tunes_it_on_change_and_restore_undoes_it),
        };
        return cmocka_run_group_tests_name("block hot-plug on the real kernel", tests, setup, teardown);
}
