/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one place kernel files are read and written. Every path is relative
 * and resolves under a root prefix (--root, default "/"), so tests point the
 * daemon at a fixture tree and never touch the machine they run on. Also
 * the one read-to-end loop of the tree (kfile_read_fd), which the rollback
 * journal and the configuration reader use for their own files. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct bitmap;

/* The buffer for one value of a knob (a sysctl, a sysfs attribute, a
 * selector line such as "[none] mq-deadline kyber"): callers that keep a
 * value on the stack size it with this. */
#define KFILE_VALUE_MAX 4096

struct kroot {
        int dirfd;       /* open O_PATH|O_DIRECTORY on the root prefix; kfile.c's
                          * alone, other modules use kfile_* (tests/check-kfile) */
        char *path;      /* the prefix as given, for messages */
        bool dry_run;    /* --dry-run: kfile_write logs and writes nothing */
};

int kroot_open(const char *path, bool dry_run, struct kroot *ret);
/* Safe on a zeroed or already closed struct kroot (path == NULL). */
void kroot_close(struct kroot *r);

/* A relative path with no "..", "." or empty component and no leading '/'. */
bool kfile_path_valid(const char *relpath);

/* A valid path to a file in one of the kernel trees vmtuned changes, the
 * only paths its rollback journal may name: below proc/sys/,
 * sys/kernel/mm/{transparent_hugepage,ksm,hugepages}/, sys/block/X/queue/,
 * sys/fs/cgroup/, sys/devices/system/cpu/ and
 * sys/devices/system/node/nodeN/hugepages/. Lexical only (pure). */
bool kfile_path_managed(const char *relpath);

/* Paths are resolved beneath the root and never out of it: symlinks are
 * followed while they stay beneath it (sys/block/X are relative links into
 * sys/devices), and a path that a link (absolute, or climbing with "..")
 * would take out of it fails with -EXDEV: openat2(2) with RESOLVE_BENEATH,
 * or an O_NOFOLLOW walk where the kernel has no openat2. The same holds for
 * kfile_access/kfile_stat and below the directory fds of kfile_open_dirfd.
 * Every function below answers -EINVAL for an invalid path without opening
 * it, and every reader -ENOENT for a file that is not there, also for a
 * /proc process that went away before or while it was read (ESRCH).
 *
 * Read a kernel file: its contents trimmed, with runs of white space folded
 * to one space (sysctls such as tcp_rmem print tabs). -E2BIG if it does
 * not fit. */
int kfile_read(const struct kroot *r, const char *relpath, char *buf, size_t size);

/* Read a file as it is (not trimmed) into buf, NUL-terminated, for a
 * caller that reuses its buffer (the sampler allocates nothing in steady
 * state): its length, -E2BIG if it does not fit in size - 1 bytes. */
ssize_t kfile_read_raw(const struct kroot *r, const char *relpath, char *buf, size_t size);

/* Read a whole file unmodified (no trimming, lines kept: numa_maps,
 * /proc/PID/status, mountinfo) into a malloc'd string. -E2BIG above 64 MiB. */
int kfile_read_all(const struct kroot *r, const char *relpath, char **ret);

/* A file holding one whole decimal number (counters, a PID file). -EINVAL
 * for anything else (a sign, trailing words, empty); kfile_read_long also
 * -ERANGE outside [min, max]. */
int kfile_read_u64(const struct kroot *r, const char *relpath, uint64_t *ret);
int kfile_read_long(const struct kroot *r, const char *relpath, long min, long max, long *ret);

/* A file holding a list of CPUs or nodes ("0-3,8", cpulist, online,
 * cpuset.mems), parsed with bitmap_parse_list into *ret (empty on entry). */
int kfile_read_list(const struct kroot *r, const char *relpath, struct bitmap *ret);

/* Read and, for a selector file ("always [madvise] never"), reduce to the
 * selected value; a plain file yields its trimmed contents. */
int kfile_read_value(const struct kroot *r, const char *relpath, char *buf, size_t size);

/* Write value (plus "\n") in one write(2). -errno from the kernel as is:
 * callers sort EINVAL/EBUSY and friends. In dry-run mode writes nothing. */
int kfile_write(const struct kroot *r, const char *relpath, const char *value);

/* 0 if the path exists (a file, directory or the target of a symlink),
 * else -errno: -ENOENT when it does not. */
int kfile_access(const struct kroot *r, const char *relpath);
static inline bool kfile_exists(const struct kroot *r, const char *relpath)
{
        return kfile_access(r, relpath) == 0;
}
int kfile_stat(const struct kroot *r, const char *relpath, struct stat *ret);

/* A directory under the root to list with readdir(); closedir() it. */
int kfile_opendir(const struct kroot *r, const char *relpath, DIR **ret);

/* For walking a large tree by hand (the sampler reads every thread of
 * proc/ each tick, without resolving proc/PID/task again for each): a
 * directory under the root as an fd for getdents64(), then directories
 * and files relative to such an fd; kfile_read_at reads like
 * kfile_read_raw. */
int kfile_open_dirfd(const struct kroot *r, const char *relpath);
int kfile_open_dirfd_at(int dirfd, const char *relpath);
ssize_t kfile_read_at(int dirfd, const char *relpath, char *buf, size_t size);

/* Files read every tick (the sampler's proc/schedstat and nodeN/meminfo):
 * kfile_open_kept opens one under the root once (an fd, or -errno like the
 * readers; close() it), kfile_pread reads it whole from offset 0 each time,
 * like kfile_read_raw, without opening it again. seq_file and sysfs files
 * are generated afresh by a read at offset 0. */
int kfile_open_kept(const struct kroot *r, const char *relpath);
/* The same relative to a directory fd of kfile_open_dirfd() (a domain's
 * proc/PID/task/TID/schedstat). */
int kfile_open_kept_at(int dirfd, const char *relpath);
ssize_t kfile_pread(int fd, char *buf, size_t size);
/* One pread from offset 0, for a file the kernel generates whole in one
 * read: a single_open seq_file far below a page, such as
 * proc/PID/task/TID/schedstat (~30 bytes). Saves the read that finds the
 * end; -E2BIG if the contents fill buf (they may go on). */
ssize_t kfile_pread_once(int fd, char *buf, size_t size);

/* Read fd to its end into a NUL-terminated malloc'd buffer: -E2BIG for more
 * than max bytes, -errno from read(2). For files outside the root too (the
 * rollback journal, the configuration); *ret_len may be NULL. */
int kfile_read_fd(int fd, size_t max, char **ret, size_t *ret_len);

/* Pure helpers, on buffers. */
/* "none [mq-deadline] kyber" -> "mq-deadline" in place; no brackets: unchanged. Returns buf. */
char *kfile_selected(char *buf);
/* Is word one of the choices in a selector line ("[none] mq-deadline kyber")? */
bool kfile_selector_offers(const char *line, const char *word);
/* Trim and fold white space in place. Returns buf. */
char *kfile_normalize(char *buf);
