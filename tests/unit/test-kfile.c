/* SPDX-License-Identifier: GPL-2.0-or-later */
/* kfile: path checks, the pure value helpers, and I/O on a fixture tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "base/bitmap.h"
#include "base/kfile.h"
#include "base/log.h"
#include "base/procparse.h"
#include "testlib.h"

static void test_path_valid_accepts_plain_relative_paths(void **state)
{
        assert_true(kfile_path_valid("proc/sys/vm/swappiness"));
        assert_true(kfile_path_valid("sys/block/vda/queue/scheduler"));
        assert_true(kfile_path_valid("x"));
        assert_true(kfile_path_valid("a/..b/c.")); /* dots inside a name are fine */
}

static void test_path_valid_rejects_absolute_dotdot_empty_and_dot_components(void **state)
{
        assert_false(kfile_path_valid(NULL));
        assert_false(kfile_path_valid(""));
        assert_false(kfile_path_valid("/proc/sys/vm/swappiness"));
        assert_false(kfile_path_valid(".."));
        assert_false(kfile_path_valid("../etc/passwd"));
        assert_false(kfile_path_valid("proc/sys/../../etc/shadow"));
        assert_false(kfile_path_valid("proc/.."));
        assert_false(kfile_path_valid("a//b"));
        assert_false(kfile_path_valid("a/b/"));
        assert_false(kfile_path_valid("./x"));
        assert_false(kfile_path_valid("a/./b"));
}

static void test_selected_returns_the_bracketed_choice(void **state)
{
        char thp[] = "always [madvise] never";
        char sched[] = "[none] mq-deadline";
        char plain[] = "60";
        char unclosed[] = "a [b c";

        assert_string_equal(kfile_selected(thp), "madvise");
        assert_string_equal(kfile_selected(sched), "none");
        assert_string_equal(kfile_selected(plain), "60");
        assert_string_equal(kfile_selected(unclosed), "a [b c");
}

static void test_normalize_trims_and_folds_tabs_and_newlines(void **state)
{
        char tcp[] = "4096\t87380\t6291456\n";
        char plain[] = "60\n";
        char spaced[] = "  \t a   b \n\n";
        char empty[] = " \n";

        assert_string_equal(kfile_normalize(tcp), "4096 87380 6291456");
        assert_string_equal(kfile_normalize(plain), "60");
        assert_string_equal(kfile_normalize(spaced), "a b");
        assert_string_equal(kfile_normalize(empty), "");
}

static void test_selector_offers_bracketed_and_plain_words_only_whole(void **state)
{
        const char *line = "[none] mq-deadline kyber";

        assert_true(kfile_selector_offers(line, "none"));
        assert_true(kfile_selector_offers(line, "mq-deadline"));
        assert_true(kfile_selector_offers(line, "kyber"));
        assert_false(kfile_selector_offers(line, "bfq"));
        assert_false(kfile_selector_offers(line, "mq"));
        assert_false(kfile_selector_offers(line, "deadline"));
        assert_false(kfile_selector_offers(line, ""));
        assert_true(kfile_selector_offers("none", "none"));
}

static void test_read_missing_knob_is_enoent(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        assert_int_equal(kfile_read(&f->root, "proc/sys/vm/no_such_knob", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(kfile_read_value(&f->root, "sys/kernel/mm/ksm/run", buf, sizeof(buf)), -ENOENT);
}

static void test_read_refuses_invalid_path_without_opening(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        tl_write(f->dir, "etc/secret", "x\n");
        assert_int_equal(kfile_read(&f->root, "proc/../etc/secret", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(kfile_read(&f->root, "/etc/hostname", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(kfile_write(&f->root, "/tmp/x", "1"), -EINVAL);
}

static void test_read_normalizes_tabs_of_multi_value_sysctls(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        tl_write(f->dir, "proc/sys/net/ipv4/tcp_rmem", "4096\t131072\t6291456\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/net/ipv4/tcp_rmem", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "4096 131072 6291456");
}

static void test_read_value_reduces_a_selector_file(void **state)
{
        struct tl_root *f = *state;
        char buf[64];

        tl_write(f->dir, "sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
        assert_int_equal(kfile_read(&f->root, "sys/kernel/mm/transparent_hugepage/enabled",
                                    buf, sizeof(buf)), 0);
        assert_string_equal(buf, "always [madvise] never");
        assert_int_equal(kfile_read_value(&f->root, "sys/kernel/mm/transparent_hugepage/enabled",
                                          buf, sizeof(buf)), 0);
        assert_string_equal(buf, "madvise");
}

static void test_read_that_does_not_fit_is_e2big(void **state)
{
        struct tl_root *f = *state;
        char buf[8];

        tl_write(f->dir, "proc/sys/kernel/long", "0123456789\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/kernel/long", buf, sizeof(buf)), -E2BIG);
        /* Exactly size - 1 bytes still fits. */
        tl_write(f->dir, "proc/sys/kernel/exact", "012345\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/kernel/exact", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "012345");
}

static void test_write_then_read_round_trips_on_a_fixture_file(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *content = NULL;
        char buf[64];

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(kfile_write(&f->root, "proc/sys/vm/swappiness", "5"), 0);
        content = tl_read(f->dir, "proc/sys/vm/swappiness");
        /* Truncated and newline-terminated, like a kernel file reads back. */
        assert_string_equal(content, "5\n");
        assert_int_equal(kfile_read(&f->root, "proc/sys/vm/swappiness", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "5");
}

static void test_write_follows_sys_block_symlinks(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *content = NULL;

        tl_write(f->dir, "sys/devices/virtual/block/vda/queue/read_ahead_kb", "128\n");
        tl_symlink(f->dir, "sys/block/vda", "../devices/virtual/block/vda");
        assert_int_equal(kfile_write(&f->root, "sys/block/vda/queue/read_ahead_kb", "4096"), 0);
        content = tl_read(f->dir, "sys/devices/virtual/block/vda/queue/read_ahead_kb");
        assert_string_equal(content, "4096\n");
}

static void test_write_to_missing_knob_fails_and_creates_nothing(void **state)
{
        struct tl_root *f = *state;

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(kfile_write(&f->root, "proc/sys/vm/new_knob", "1"), -ENOENT);
        assert_false(tl_exists(f->dir, "proc/sys/vm/new_knob"));
}

static void test_dry_run_write_leaves_the_file_alone(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *content = NULL;
        struct kroot dry;

        tl_write(f->dir, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(kroot_open(f->dir, true, &dry), 0);
        assert_int_equal(kfile_write(&dry, "proc/sys/vm/swappiness", "10"), 0);
        kroot_close(&dry);
        content = tl_read(f->dir, "proc/sys/vm/swappiness");
        assert_string_equal(content, "60\n");
}

static void test_exists_and_access_see_files_dirs_and_symlinks_under_the_root(void **state)
{
        struct tl_root *f = *state;

        tl_write(f->dir, "sys/devices/virtual/block/vda/queue/scheduler", "[none]\n");
        tl_symlink(f->dir, "sys/block/vda", "../devices/virtual/block/vda");
        assert_true(kfile_exists(&f->root, "sys/block/vda/queue/scheduler"));
        assert_true(kfile_exists(&f->root, "sys/block/vda"));
        assert_true(kfile_exists(&f->root, "sys/devices"));
        assert_int_equal(kfile_access(&f->root, "sys/block/vda/queue"), 0);
        assert_false(kfile_exists(&f->root, "sys/block/vdb"));
        assert_int_equal(kfile_access(&f->root, "sys/block/vdb"), -ENOENT);
        assert_int_equal(kfile_access(&f->root, "sys/block/vda/queue/scheduler/x"), -ENOTDIR);
        /* The root itself and paths out of it are not kernel files. */
        tl_write(f->dir, "etc/secret", "x\n");
        assert_int_equal(kfile_access(&f->root, "sys/../etc/secret"), -EINVAL);
        assert_false(kfile_exists(&f->root, "/etc/hostname"));
        assert_false(kfile_exists(&f->root, ""));
}

static void test_stat_reports_the_file_under_the_root(void **state)
{
        struct tl_root *f = *state;
        struct stat st = { 0 };

        tl_write(f->dir, "etc/sysctl.d/10-a.conf", "vm.swappiness = 10\n");
        assert_int_equal(kfile_stat(&f->root, "etc/sysctl.d/10-a.conf", &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 19);
        assert_int_equal(kfile_stat(&f->root, "etc/sysctl.d", &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(kfile_stat(&f->root, "etc/sysctl.d/99-none.conf", &st), -ENOENT);
        assert_int_equal(kfile_stat(&f->root, "etc/../etc/sysctl.d", &st), -EINVAL);
}

static void test_opendir_lists_a_directory_under_the_root(void **state)
{
        struct tl_root *f = *state;
        struct dirent *de;
        unsigned seen = 0;
        DIR *d = (DIR *) 0x1;

        tl_write(f->dir, "sys/block/sda/size", "1\n");
        tl_write(f->dir, "sys/block/vda/size", "1\n");
        assert_int_equal(kfile_opendir(&f->root, "sys/block", &d), 0);
        while ((de = readdir(d)))
                seen |= streq(de->d_name, "sda") ? 1 : streq(de->d_name, "vda") ? 2 : 0;
        closedir(d);
        assert_int_equal(seen, 3);

        d = (DIR *) 0x1;
        assert_int_equal(kfile_opendir(&f->root, "sys/class", &d), -ENOENT);
        assert_int_equal(kfile_opendir(&f->root, "sys/block/sda/size", &d), -ENOTDIR);
        assert_int_equal(kfile_opendir(&f->root, "sys/block/", &d), -EINVAL);
        assert_ptr_equal(d, (DIR *) 0x1); /* untouched on error */
}

static void test_read_raw_and_read_at_keep_contents_as_they_are(void **state)
{
        struct tl_root *f = *state;
        _cleanup_close_ int procfd = -1, taskfd = -1;
        char buf[16];

        tl_write(f->dir, "proc/7/task/8/schedstat", "100 200\t3\n");
        procfd = kfile_open_dirfd(&f->root, "proc");
        assert_true(procfd >= 0);
        taskfd = kfile_open_dirfd_at(procfd, "7/task");
        assert_true(taskfd >= 0);
        /* As it is: not trimmed, tabs and new line kept; the length back. */
        assert_int_equal(kfile_read_at(taskfd, "8/schedstat", buf, sizeof(buf)), 10);
        assert_string_equal(buf, "100 200\t3\n");
        memset(buf, 0, sizeof(buf));
        assert_int_equal(kfile_read_raw(&f->root, "proc/7/task/8/schedstat", buf, sizeof(buf)), 10);
        assert_string_equal(buf, "100 200\t3\n");
        assert_int_equal(kfile_read_raw(&f->root, "proc/7/task/8/schedstat", buf, 10), -E2BIG);
        /* Exactly size - 1 bytes fit; one more does not. */
        assert_int_equal(kfile_read_at(taskfd, "8/schedstat", buf, 11), 10);
        assert_int_equal(kfile_read_at(taskfd, "8/schedstat", buf, 10), -E2BIG);
        assert_int_equal(kfile_read_at(taskfd, "9/schedstat", buf, sizeof(buf)), -ENOENT);
        assert_int_equal(kfile_read_at(taskfd, "../7/task/8/schedstat", buf, sizeof(buf)), -EINVAL);
        assert_int_equal(kfile_open_dirfd_at(procfd, "7/task/8/schedstat"), -ENOTDIR);
        assert_int_equal(kfile_open_dirfd_at(procfd, "."), -EINVAL);
        assert_int_equal(kfile_open_dirfd(&f->root, "proc/9"), -ENOENT);
}

static void test_read_u64_takes_one_whole_unsigned_number(void **state)
{
        struct tl_root *f = *state;
        const char *bad[] = { "-1\n", "\n", "12 kB\n", "0x10\n", "+5\n", "18446744073709551616\n", "1.5\n" };
        uint64_t v = 0;

        tl_write(f->dir, "sys/kernel/mm/ksm/full_scans", "42\n");
        assert_int_equal(kfile_read_u64(&f->root, "sys/kernel/mm/ksm/full_scans", &v), 0);
        assert_int_equal(v, 42);
        tl_write(f->dir, "sys/kernel/mm/ksm/full_scans", "18446744073709551615\n");
        assert_int_equal(kfile_read_u64(&f->root, "sys/kernel/mm/ksm/full_scans", &v), 0);
        assert_true(v == UINT64_MAX);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                v = 7;
                tl_write(f->dir, "sys/kernel/mm/ksm/full_scans", bad[i]);
                assert_int_equal(kfile_read_u64(&f->root, "sys/kernel/mm/ksm/full_scans", &v), -EINVAL);
                assert_int_equal(v, 7);
        }
        assert_int_equal(kfile_read_u64(&f->root, "sys/kernel/mm/ksm/pages_skipped", &v), -ENOENT);
}

static void test_read_long_checks_its_range(void **state)
{
        struct tl_root *f = *state;
        long v = 0;

        tl_write(f->dir, "run/libvirt/qemu/vm1.pid", "4242");  /* libvirt writes no new line */
        assert_int_equal(kfile_read_long(&f->root, "run/libvirt/qemu/vm1.pid", 1, INT32_MAX, &v), 0);
        assert_int_equal(v, 4242);
        tl_write(f->dir, "sys/kernel/mm/ksm/merge_across_nodes", "-1\n");
        assert_int_equal(kfile_read_long(&f->root, "sys/kernel/mm/ksm/merge_across_nodes", -1, 1, &v), 0);
        assert_int_equal(v, -1);
        assert_int_equal(kfile_read_long(&f->root, "sys/kernel/mm/ksm/merge_across_nodes", 0, 1, &v), -ERANGE);
        tl_write(f->dir, "run/libvirt/qemu/vm2.pid", "pid 12\n");
        assert_int_equal(kfile_read_long(&f->root, "run/libvirt/qemu/vm2.pid", 1, INT32_MAX, &v), -EINVAL);
        assert_int_equal(kfile_read_long(&f->root, "run/libvirt/qemu/vm3.pid", 1, INT32_MAX, &v), -ENOENT);
}

static void test_read_list_parses_cpu_lists_longer_than_a_value_buffer(void **state)
{
        struct tl_root *f = *state;
        _cleanup_(bitmap_done) struct bitmap cpus = { 0 }, nodes = { 0 };
        _cleanup_free_ char *list = NULL;
        struct bitmap bad = { 0 };
        size_t len = 0;

        /* Every other CPU of 4096, one by one: ~9.5 KB, past KFILE_VALUE_MAX. */
        list = xcalloc(16384, 1);
        for (unsigned cpu = 0; cpu < 4096; cpu += 2)
                len += (size_t) snprintf(list + len, 16384 - len, "%s%u", cpu ? "," : "", cpu);
        list[len] = '\n';
        assert_true(len > KFILE_VALUE_MAX);
        tl_write(f->dir, "sys/devices/system/node/node0/cpulist", list);
        assert_int_equal(kfile_read_list(&f->root, "sys/devices/system/node/node0/cpulist", &cpus), 0);
        assert_int_equal(bitmap_count(&cpus), 2048);
        assert_true(bitmap_test(&cpus, 4094));
        assert_false(bitmap_test(&cpus, 4095));

        tl_write(f->dir, "sys/devices/system/node/online", "0-1,3\n");
        assert_int_equal(kfile_read_list(&f->root, "sys/devices/system/node/online", &nodes), 0);
        assert_int_equal(bitmap_count(&nodes), 3);
        assert_false(bitmap_test(&nodes, 2));
        tl_write(f->dir, "sys/fs/cgroup/cpuset.mems", "0-x\n");
        assert_int_equal(kfile_read_list(&f->root, "sys/fs/cgroup/cpuset.mems", &bad), -EINVAL);
        assert_int_equal(kfile_read_list(&f->root, "sys/devices/system/cpu/online", &bad), -ENOENT);
        assert_int_equal(bitmap_count(&bad), 0);
}

static void test_read_all_keeps_a_file_larger_than_one_read_whole(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *big = xcalloc(100001, 1), *text = NULL;

        /* Lines kept, and past the 4 KiB the buffer starts with. */
        for (size_t i = 0; i < 100000; i++)
                big[i] = i % 50 == 49 ? '\n' : (char) ('a' + i % 26);
        tl_write(f->dir, "proc/1/numa_maps", big);
        assert_int_equal(kfile_read_all(&f->root, "proc/1/numa_maps", &text), 0);
        assert_string_equal(text, big);
        assert_int_equal(kfile_read_all(&f->root, "proc/2/numa_maps", &text), -ENOENT);
}

/* content as a file outside the root, read with kfile_read_fd. */
static int read_fd_of(const struct tl_root *f, const char *content, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *path = xasprintf("%s/journal", f->dir);
        _cleanup_close_ int fd = -1;

        tl_write(f->dir, "journal", content);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        return kfile_read_fd(fd, max, ret, ret_len);
}

static void test_read_fd_stops_at_max_bytes(void **state)
{
        struct tl_root *f = *state;
        char *text = NULL;
        size_t len = 99;

        assert_int_equal(read_fd_of(f, "0123456789", 10, &text, &len), 0);
        assert_string_equal(text, "0123456789");
        assert_int_equal(len, 10);
        free(text);
        text = NULL;
        assert_int_equal(read_fd_of(f, "0123456789", 9, &text, NULL), -E2BIG);
        assert_null(text);
        assert_int_equal(read_fd_of(f, "", 0, &text, &len), 0);
        assert_string_equal(text, "");
        assert_int_equal(len, 0);
        free(text);
}

/* A thread that exits between the sampler listing it and reading it: the
 * kernel answers ESRCH, on open and on read, and kfile calls it gone like
 * a missing file. Only reads this machine's /proc, for a child of ours. */
static void test_a_process_gone_while_read_is_enoent(void **state)
{
        _cleanup_free_ char *task = NULL, *stat = NULL, *path = NULL;
        _cleanup_close_ int taskfd = -1, statfd = -1;
        struct kroot proc = { 0 };
        char buf[512], *text = NULL;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        assert_int_equal(kroot_open("/proc", false, &proc), 0);
        task = xasprintf("%d/task", (int) pid);
        taskfd = kfile_open_dirfd(&proc, task);
        path = xasprintf("/proc/%d/stat", (int) pid);
        statfd = open(path, O_RDONLY | O_CLOEXEC);
        stat = xasprintf("%d/stat", (int) pid);
        assert_true(taskfd >= 0 && statfd >= 0);
        assert_true(kfile_read_at(taskfd, stat, buf, sizeof(buf)) > 0);
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, NULL, 0), pid);

        assert_int_equal(kfile_read_at(taskfd, stat, buf, sizeof(buf)), -ENOENT);
        assert_int_equal(kfile_read_fd(statfd, 4096, &text, NULL), -ENOENT);
        assert_int_equal(kfile_read(&proc, stat, buf, sizeof(buf)), -ENOENT);
        kroot_close(&proc);
}

static void test_kroot_open_of_missing_prefix_fails_and_leaves_ret(void **state)
{
        struct kroot r = { .dirfd = -7 };

        assert_int_equal(kroot_open("/tmp/vmtuned-no-such-dir/x", false, &r), -ENOENT);
        assert_int_equal(r.dirfd, -7);
        assert_null(r.path);
}

static void test_path_managed_names_only_files_in_the_kernel_trees_vmtuned_changes(void **state)
{
        const char *managed[] = {
                "proc/sys/vm/swappiness",
                "proc/sys/net/ipv4/tcp_rmem",
                "sys/kernel/mm/transparent_hugepage/enabled",
                "sys/kernel/mm/transparent_hugepage/khugepaged/defrag",
                "sys/kernel/mm/ksm/run",
                "sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
                "sys/block/vda/queue/scheduler",
                "sys/block/nvme0n1/queue/read_ahead_kb",
                "sys/fs/cgroup/machine.slice/machine-qemu\\x2d1\\x2dvm.scope/libvirt/cpuset.mems",
                "sys/fs/cgroup/cpuset/machine/cpuset.memory_migrate",
                "sys/devices/system/cpu/cpu3/cpufreq/scaling_governor",
                "sys/devices/system/node/node1/hugepages/hugepages-1048576kB/nr_hugepages",
        };
        const char *not_managed[] = {
                NULL, "", "etc/victim", "etc/shadow", "root/.ssh/authorized_keys",
                "proc/sys", "proc/sys/", "sys/kernel/mm/ksm", "sys/block/vda/queue", /* trees, not files */
                "proc/sysrq-trigger", "proc/1/status", "proc/system/x", "proc/sysx/vm/swappiness",
                "sys/block/vda/size", "sys/block/vda/device/rescan", "sys/block/queue/scheduler",
                "sys/kernel/mm/page_idle/bitmap", "sys/fs/cgroupx/a", "sys/devices/system/node/node0/cpulist",
                "sys/devices/system/node/nodes/hugepages/x", "sys/devices/system/memory/memory0/online",
                "/proc/sys/vm/swappiness", "proc/sys/../../etc/victim", "proc/sys/vm/../../../etc/victim",
                "proc/sys/./vm/swappiness", "proc/sys//vm/swappiness", "run/vmtuned/rollback",
        };

        for (size_t i = 0; i < ARRAY_SIZE(managed); i++)
                if (!kfile_path_managed(managed[i]))
                        fail_msg("%s should be managed", managed[i]);
        for (size_t i = 0; i < ARRAY_SIZE(not_managed); i++)
                if (kfile_path_managed(not_managed[i]))
                        fail_msg("%s should not be managed", not_managed[i] ? not_managed[i] : "(null)");
}

/* The symlink checks below, without cmocka, so that a child with openat2
 * filtered out can run them too: 0, or the number of the check that failed. */
static int check_links_stay_beneath_the_root(const struct tl_root *f, const char *outside)
{
        _cleanup_free_ char *victim = xasprintf("%s/outside-file", outside);
        _cleanup_free_ char *climb = xasprintf("../../../../%s/outside-file", outside + 1);
        _cleanup_free_ char *content = NULL;
        struct stat st;
        char buf[64];
        DIR *d = NULL;

        tl_write(outside, "outside-file", "secret\n");
        /* Out of the root: an absolute link, a relative one that climbs,
         * and a directory on the way that is a link out. */
        tl_symlink(f->dir, "proc/sys/vm/swappiness", victim);
        tl_symlink(f->dir, "proc/sys/vm/dirty_ratio", climb);
        tl_symlink(f->dir, "sys/block/sdz", outside);
        tl_write(outside, "queue/scheduler", "[none] bfq\n");
        /* Inside it: sysfs' own relative links, and a link to a sibling. */
        tl_write(f->dir, "sys/devices/virtual/block/vda/queue/scheduler", "[none] mq-deadline\n");
        tl_symlink(f->dir, "sys/block/vda", "../devices/virtual/block/vda");
        tl_write(f->dir, "proc/sys/vm/overcommit_memory", "0\n");
        tl_symlink(f->dir, "proc/sys/vm/alias", "./../vm/overcommit_memory");
        tl_symlink(f->dir, "proc/sys/vm/loop1", "loop2");
        tl_symlink(f->dir, "proc/sys/vm/loop2", "loop1");

        if (kfile_read(&f->root, "proc/sys/vm/swappiness", buf, sizeof(buf)) != -EXDEV)
                return 1;
        if (kfile_write(&f->root, "proc/sys/vm/swappiness", "1") != -EXDEV)
                return 2;
        if (kfile_write(&f->root, "proc/sys/vm/dirty_ratio", "1") != -EXDEV)
                return 3;
        if (kfile_write(&f->root, "sys/block/sdz/queue/scheduler", "bfq") != -EXDEV)
                return 4;
        if (kfile_exists(&f->root, "proc/sys/vm/swappiness") || kfile_stat(&f->root, "sys/block/sdz", &st) != -EXDEV)
                return 5;
        if (kfile_opendir(&f->root, "sys/block/sdz/queue", &d) != -EXDEV)
                return 6;
        content = tl_read(outside, "outside-file");
        if (!content || !streq(content, "secret\n"))
                return 7;
        free(content);
        content = tl_read(outside, "queue/scheduler");
        if (!content || !streq(content, "[none] bfq\n"))
                return 8;

        if (kfile_write(&f->root, "sys/block/vda/queue/scheduler", "mq-deadline") != 0)
                return 9;
        free(content);
        content = tl_read(f->dir, "sys/devices/virtual/block/vda/queue/scheduler");
        if (!content || !streq(content, "mq-deadline\n"))
                return 10;
        if (kfile_read(&f->root, "proc/sys/vm/alias", buf, sizeof(buf)) != 0 || !streq(buf, "0"))
                return 11;
        if (kfile_stat(&f->root, "sys/block/vda", &st) != 0 || !S_ISDIR(st.st_mode))
                return 12;
        if (kfile_access(&f->root, "sys/block/vda/queue/nr_requests") != -ENOENT)
                return 13;
        if (kfile_read(&f->root, "proc/sys/vm/loop1", buf, sizeof(buf)) != -ELOOP)
                return 14;
        return 0;
}

static void test_a_symlink_out_of_the_root_is_not_followed(void **state)
{
        struct tl_root *f = *state;
        _cleanup_free_ char *outside = tl_mkdtemp("vmtuned-outside");

        assert_int_equal(check_links_stay_beneath_the_root(f, outside), 0);
        tl_rm_rf(outside);
}

/* A kernel without openat2 (before 5.6) answers ENOSYS, a seccomp filter
 * older than it EPERM (systemd's SystemCallErrorNumber=EPERM): the same
 * checks, in a child whose openat2 is filtered so. */
static void links_stay_beneath_without_openat2(struct tl_root *f, int err)
{
        _cleanup_free_ char *outside = tl_mkdtemp("vmtuned-outside");
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned) err & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ARRAY_SIZE(filter), .filter = filter };
        int status = -1;
        pid_t pid;

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
                        _exit(100);
                if (syscall(SYS_openat2, AT_FDCWD, ".", NULL, 0) >= 0 || errno != err)
                        _exit(101); /* the filter does not hold: the test would prove nothing */
                _exit(check_links_stay_beneath_the_root(f, outside));
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        tl_rm_rf(outside);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 100) {
                fprintf(stderr, "cannot install a seccomp filter here, skipped\n");
                skip();
        }
        assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_without_openat2_a_symlink_out_of_the_root_is_not_followed(void **state)
{
        links_stay_beneath_without_openat2(*state, ENOSYS);
}

static void test_with_openat2_filtered_a_symlink_out_of_the_root_is_not_followed(void **state)
{
        links_stay_beneath_without_openat2(*state, EPERM);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_valid_accepts_plain_relative_paths),
                cmocka_unit_test(test_path_valid_rejects_absolute_dotdot_empty_and_dot_components),
                cmocka_unit_test(test_selected_returns_the_bracketed_choice),
                cmocka_unit_test(test_normalize_trims_and_folds_tabs_and_newlines),
                cmocka_unit_test(test_selector_offers_bracketed_and_plain_words_only_whole),
                cmocka_unit_test_setup_teardown(test_read_missing_knob_is_enoent, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_refuses_invalid_path_without_opening, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_normalizes_tabs_of_multi_value_sysctls, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_value_reduces_a_selector_file, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_that_does_not_fit_is_e2big, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_write_then_read_round_trips_on_a_fixture_file, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_write_follows_sys_block_symlinks, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_write_to_missing_knob_fails_and_creates_nothing, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_write_leaves_the_file_alone, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_exists_and_access_see_files_dirs_and_symlinks_under_the_root, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_stat_reports_the_file_under_the_root, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_opendir_lists_a_directory_under_the_root, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_raw_and_read_at_keep_contents_as_they_are, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_u64_takes_one_whole_unsigned_number, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_long_checks_its_range, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_list_parses_cpu_lists_longer_than_a_value_buffer, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_all_keeps_a_file_larger_than_one_read_whole, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_read_fd_stops_at_max_bytes, tl_root_setup, tl_root_teardown),
                cmocka_unit_test(test_a_process_gone_while_read_is_enoent),
                cmocka_unit_test(test_kroot_open_of_missing_prefix_fails_and_leaves_ret),
                cmocka_unit_test(test_path_managed_names_only_files_in_the_kernel_trees_vmtuned_changes),
                cmocka_unit_test_setup_teardown(test_a_symlink_out_of_the_root_is_not_followed, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_without_openat2_a_symlink_out_of_the_root_is_not_followed, tl_root_setup, tl_root_teardown),
                cmocka_unit_test_setup_teardown(test_with_openat2_filtered_a_symlink_out_of_the_root_is_not_followed, tl_root_setup, tl_root_teardown),
        };

        log_setup(LOG_TARGET_STDERR, LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
