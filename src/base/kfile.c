/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/kfile.h"

#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <sys/syscall.h>

#include "base/log.h"
#include "base/bitmap.h"
#include "base/util.h"

int kroot_open(const char *path, bool dry_run, struct kroot *ret)
{
        int fd;

        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret = (struct kroot){ .dirfd = fd, .path = xstrdup(path), .dry_run = dry_run };
        return 0;
}

void kroot_close(struct kroot *r)
{
        /* path marks an opened root: a zeroed struct must not close fd 0. */
        if (!r || !r->path)
                return;
        if (r->dirfd >= 0)
                close(r->dirfd);
        r->dirfd = -1;
        free(r->path);
        r->path = NULL;
}

bool kfile_path_valid(const char *relpath)
{
        const char *p = relpath;

        if (!p || !*p || *p == '/')
                return false;
        for (;;) {
                size_t len = strcspn(p, "/");

                /* Catches "a//b" and a trailing '/' as well as "." and "..". */
                if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (p[len] == '\0')
                        return true;
                p += len + 1;
        }
}

char *kfile_normalize(char *buf)
{
        char *w = buf;
        bool pending_space = false;

        for (const char *r = buf; *r; r++) {
                if (isspace((unsigned char) *r)) {
                        pending_space = w != buf;
                        continue;
                }
                if (pending_space)
                        *w++ = ' ';
                pending_space = false;
                *w++ = *r;
        }
        *w = '\0';
        return buf;
}

char *kfile_selected(char *buf)
{
        char *open, *close;

        open = strchr(buf, '[');
        if (!open)
                return buf;
        close = strchr(open + 1, ']');
        if (!close)
                return buf;
        memmove(buf, open + 1, (size_t) (close - open - 1));
        buf[close - open - 1] = '\0';
        return buf;
}

bool kfile_selector_offers(const char *line, const char *word)
{
        size_t wlen = strlen(word);
        const char *p = line;

        if (wlen == 0)
                return false;
        for (;;) {
                size_t len;

                p += strspn(p, " \t\n");
                if (!*p)
                        return false;
                len = strcspn(p, " \t\n");
                /* The selected choice is shown as "[word]". */
                if (len == wlen + 2 && p[0] == '[' && p[len - 1] == ']' && strncmp(p + 1, word, wlen) == 0)
                        return true;
                if (len == wlen && strncmp(p, word, wlen) == 0)
                        return true;
                p += len;
        }
}

/* The kernel trees vmtuned changes, one fnmatch(3) pattern a component:
 * what the rollback journal may name. A tree itself is not a tunable, a
 * file below it is. Later trees (cpufreq, hugepages, more cgroup files)
 * are added here, not in the modules that write them. */
static const char *const managed_trees[] = {
        "proc/sys",                                      /* sysctls */
        "sys/kernel/mm/transparent_hugepage",
        "sys/kernel/mm/ksm",
        "sys/kernel/mm/hugepages",
        "sys/block/*/queue",                             /* [disk] */
        "sys/fs/cgroup",                                 /* the balancer's cpuset.mems */
        "sys/devices/system/cpu",                        /* cpufreq, cpu online */
        "sys/devices/system/node/node[0-9]*/hugepages",
};

/* Is the valid path relpath strictly below tree? */
static bool path_below(const char *relpath, const char *tree)
{
        const char *p = relpath, *t = tree;

        for (;;) {
                size_t plen = strcspn(p, "/"), tlen = strcspn(t, "/");
                char pc[NAME_MAX + 1], tc[NAME_MAX + 1];

                /* The tree needs a file below it: p must go on. */
                if (p[plen] == '\0' || plen > NAME_MAX || tlen > NAME_MAX)
                        return false;
                memcpy(pc, p, plen);
                pc[plen] = '\0';
                memcpy(tc, t, tlen);
                tc[tlen] = '\0';
                if (fnmatch(tc, pc, 0) != 0)
                        return false;
                if (t[tlen] == '\0')
                        return true; /* and kfile_path_valid() promises a name after the '/' */
                p += plen + 1;
                t += tlen + 1;
        }
}

bool kfile_path_managed(const char *relpath)
{
        if (!kfile_path_valid(relpath))
                return false;
        for (size_t i = 0; i < ARRAY_SIZE(managed_trees); i++)
                if (path_below(relpath, managed_trees[i]))
                        return true;
        return false;
}

/* --- opening beneath the root -------------------------------------------- */

/* Set once openat2(2) turned out to be missing (ENOSYS: before Linux 5.6)
 * or filtered (a seccomp policy older than the syscall answers EPERM, as
 * systemd's SystemCallErrorNumber=EPERM does): every later open walks. A
 * fact about the kernel, not daemon state, hence a static. */
static bool no_openat2;

/* Symlinks followed in one walk, as the kernel's own limit (MAXSYMLINKS). */
#define WALK_SYMLINKS_MAX 40

/* The fallback of open_beneath(): resolve relpath one component at a
 * time with O_NOFOLLOW, keeping every directory on the way open, and
 * follow each symlink by hand: a relative one (sysfs' "../devices/...")
 * is spliced into the rest of the path and walked on, ".." pops back to
 * the directory held open below it; an absolute link, or ".." at dirfd,
 * is -EXDEV, as RESOLVE_BENEATH answers. Each step opens with O_NOFOLLOW,
 * so a link swapped in between a look and an open fails rather than
 * leads out. */
static int walk_beneath(int dirfd, const char *relpath, int flags)
{
        _cleanup_free_ char *todo = xstrdup(relpath);
        _cleanup_free_ int *dirs = NULL;
        size_t depth = 0, cap = 0;
        unsigned links = 0;
        char *p = todo;
        int r;

        for (;;) {
                char *name = p, target[PATH_MAX];
                int cur = depth ? dirs[depth - 1] : dirfd, fd;
                bool last;
                ssize_t n;

                p += strcspn(p, "/");
                if (*p)
                        *p++ = '\0';
                last = p[strspn(p, "/")] == '\0';
                if (!*name || streq(name, ".")) {
                        if (!last)
                                continue;
                        name = "."; /* a link to "sub/" or "." ends on a directory */
                } else if (streq(name, "..")) {
                        if (depth == 0) {
                                r = -EXDEV;
                                break;
                        }
                        close(dirs[--depth]);
                        if (!last)
                                continue;
                        name = ".";
                        cur = depth ? dirs[depth - 1] : dirfd;
                }
                if (last)
                        fd = openat(cur, name, flags | O_NOFOLLOW | O_CLOEXEC);
                else
                        fd = openat(cur, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0 && last && (flags & O_PATH)) {
                        struct stat st;

                        /* O_PATH|O_NOFOLLOW opens a symlink itself. */
                        if (fstat(fd, &st) < 0) {
                                r = -errno;
                                close(fd);
                                break;
                        }
                        if (S_ISLNK(st.st_mode)) {
                                close(fd);
                                fd = -1;
                                errno = ELOOP;
                        }
                }
                if (fd >= 0 && last) {
                        r = fd;
                        break;
                }
                if (fd >= 0) {
                        if (depth == cap) {
                                cap = cap ? cap * 2 : 16;
                                dirs = xreallocarray(dirs, cap, sizeof(*dirs));
                        }
                        dirs[depth++] = fd;
                        continue;
                }
                /* A symlink answers ELOOP to O_NOFOLLOW, ENOTDIR when a
                 * directory was asked for. */
                r = -errno;
                if (r != -ELOOP && r != -ENOTDIR)
                        break;
                n = readlinkat(cur, name, target, sizeof(target));
                if (n < 0)
                        break; /* not a link: r stands */
                if ((size_t) n == sizeof(target)) {
                        r = -ENAMETOOLONG;
                        break;
                }
                target[n] = '\0';
                if (target[0] == '/') {
                        r = -EXDEV;
                        break;
                }
                if (++links > WALK_SYMLINKS_MAX) {
                        r = -ELOOP;
                        break;
                }
                /* The link's target, then what was left after it. */
                {
                        char *next = *p ? xasprintf("%s/%s", target, p) : xstrdup(target);

                        free(todo);
                        todo = next;
                        p = todo;
                }
        }
        while (depth > 0)
                close(dirs[--depth]);
        return r;
}

/* Open relpath beneath dirfd, following symlinks only while they stay
 * beneath it: openat2(RESOLVE_BENEATH) where the kernel has it, else
 * walk_beneath(). -EXDEV for a path that would leave dirfd. */
static int open_beneath(int dirfd, const char *relpath, int flags)
{
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC), .resolve = RESOLVE_BENEATH };
        int fd, r, tries = 0;

        if (!no_openat2) {
                do
                        fd = (int) syscall(SYS_openat2, dirfd, relpath, &how, sizeof(how));
                /* EAGAIN: a rename or mount raced with the lookup. */
                while (fd < 0 && errno == EAGAIN && ++tries < 16);
                if (fd >= 0)
                        return fd;
                r = -errno;
                if (r != -ENOSYS && r != -EPERM)
                        return r;
                /* EPERM may be the file's own answer: only a walk that
                 * succeeds where openat2 did not proves a filter. */
                fd = walk_beneath(dirfd, relpath, flags);
                if (r == -ENOSYS || fd >= 0)
                        no_openat2 = true;
                return fd;
        }
        return walk_beneath(dirfd, relpath, flags);
}

/* --- reading ----------------------------------------------------------- */

static int open_at(int dirfd, const char *relpath, int flags)
{
        if (!kfile_path_valid(relpath))
                return -EINVAL;
        /* kfile_path_valid() alone does not keep a path beneath the root: a
         * symlink can point anywhere. Links are followed (sys/block/X are
         * links into sys/devices), but only while they stay beneath it. */
        return open_beneath(dirfd, relpath, flags);
}

/* A process that exits between listing and reading its /proc files answers
 * ESRCH: for a reader it is gone, like a file that is not there. */
static int gone_as_enoent(int r)
{
        return r == -ESRCH ? -ENOENT : r;
}

static int open_read(int dirfd, const char *relpath, int flags)
{
        return gone_as_enoent(open_at(dirfd, relpath, O_RDONLY | flags));
}

/* The one read-to-end loop of the tree. Reads fd to its end into *buf of
 * *size bytes, NUL-terminated, and returns the length. While the contents
 * stay within max bytes it grows *buf (malloc'd, or NULL with *size 0);
 * past that: -E2BIG. A caller's own buffer comes with max = *size - 1 and
 * never grows. */
static ssize_t read_to_end(int fd, char **buf, size_t *size, size_t max)
{
        size_t len = 0;

        for (;;) {
                char extra, *dst;
                size_t room;
                ssize_t n;

                if (len + 1 < *size) {
                        dst = *buf + len;
                        room = *size - 1 - len;
                } else if (*size <= max) {
                        *size = *size ? *size * 2 : 4096;
                        if (*size > max + 1)
                                *size = max + 1;
                        *buf = xreallocarray(*buf, *size, 1);
                        continue;
                } else {
                        /* Full at max: only fine if the file ends exactly here. */
                        dst = &extra;
                        room = 1;
                }
                n = read(fd, dst, room);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gone_as_enoent(-errno);
                if (n == 0)
                        break;
                if (dst == &extra)
                        return -E2BIG;
                len += (size_t) n;
        }
        (*buf)[len] = '\0';
        return (ssize_t) len;
}

int kfile_read_fd(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        ssize_t len;

        len = read_to_end(fd, &buf, &size, max);
        if (len < 0)
                return (int) len;
        if (ret_len)
                *ret_len = (size_t) len;
        *ret = TAKE_PTR(buf);
        return 0;
}

ssize_t kfile_read_at(int dirfd, const char *relpath, char *buf, size_t size)
{
        _cleanup_close_ int fd = -1;

        if (size < 1)
                return -E2BIG;
        fd = open_read(dirfd, relpath, 0);
        if (fd < 0)
                return fd;
        return read_to_end(fd, &buf, &size, size - 1);
}

ssize_t kfile_read_raw(const struct kroot *r, const char *relpath, char *buf, size_t size)
{
        return kfile_read_at(r->dirfd, relpath, buf, size);
}

int kfile_read(const struct kroot *r, const char *relpath, char *buf, size_t size)
{
        ssize_t len;

        if (size < 2)
                return -E2BIG;
        len = kfile_read_raw(r, relpath, buf, size);
        if (len < 0)
                return (int) len;
        kfile_normalize(buf);
        return 0;
}

int kfile_read_all(const struct kroot *r, const char *relpath, char **ret)
{
        _cleanup_close_ int fd = -1;

        fd = open_read(r->dirfd, relpath, 0);
        if (fd < 0)
                return fd;
        return kfile_read_fd(fd, 64u << 20, ret, NULL);
}

int kfile_read_value(const struct kroot *r, const char *relpath, char *buf, size_t size)
{
        int ret;

        ret = kfile_read(r, relpath, buf, size);
        if (ret < 0)
                return ret;
        kfile_selected(buf);
        return 0;
}

int kfile_read_u64(const struct kroot *r, const char *relpath, uint64_t *ret)
{
        char buf[64], *end;
        unsigned long long v;
        int k;

        k = kfile_read(r, relpath, buf, sizeof(buf));
        if (k < 0)
                return k;
        /* strtoull takes a sign and wraps "-1" around: digits only. */
        if (!isdigit((unsigned char) buf[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(buf, &end, 10);
        if (*end || errno)
                return -EINVAL;
        *ret = v;
        return 0;
}

int kfile_read_long(const struct kroot *r, const char *relpath, long min, long max, long *ret)
{
        char buf[64];
        int k;

        k = kfile_read(r, relpath, buf, sizeof(buf));
        if (k < 0)
                return k;
        return parse_long(buf, min, max, ret);
}

int kfile_read_list(const struct kroot *r, const char *relpath, struct bitmap *ret)
{
        _cleanup_free_ char *buf = NULL;
        int k;

        /* Whole: a list of single CPUs on a large machine outgrows any
         * fixed buffer. */
        k = kfile_read_all(r, relpath, &buf);
        if (k < 0)
                return k;
        return bitmap_parse_list(kfile_normalize(buf), ret);
}

/* --- looking ----------------------------------------------------------- */

/* Looked at through an O_PATH descriptor, so that a look follows the same
 * links as an open would and no further. */
int kfile_access(const struct kroot *r, const char *relpath)
{
        _cleanup_close_ int fd = open_at(r->dirfd, relpath, O_PATH);

        return fd < 0 ? fd : 0;
}

int kfile_stat(const struct kroot *r, const char *relpath, struct stat *ret)
{
        _cleanup_close_ int fd = open_at(r->dirfd, relpath, O_PATH);

        if (fd < 0)
                return fd;
        return fstat(fd, ret) < 0 ? -errno : 0;
}

int kfile_open_dirfd_at(int dirfd, const char *relpath)
{
        return open_read(dirfd, relpath, O_DIRECTORY);
}

int kfile_open_dirfd(const struct kroot *r, const char *relpath)
{
        return kfile_open_dirfd_at(r->dirfd, relpath);
}

int kfile_opendir(const struct kroot *r, const char *relpath, DIR **ret)
{
        DIR *d;
        int fd;

        fd = kfile_open_dirfd(r, relpath);
        if (fd < 0)
                return fd;
        d = fdopendir(fd);
        if (!d) {
                int k = -errno;

                close(fd);
                return k;
        }
        *ret = d;
        return 0;
}

/* --- writing ----------------------------------------------------------- */

int kfile_write(const struct kroot *r, const char *relpath, const char *value)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *line = NULL;
        size_t len;
        ssize_t n;

        if (!kfile_path_valid(relpath))
                return -EINVAL;
        if (r->dry_run) {
                log_debug("dry run: not writing \"%s\" to %s", value, relpath);
                return 0;
        }
        /* O_TRUNC is ignored by procfs and sysfs; it makes a fixture file
         * hold exactly the value afterwards, as a kernel file would. */
        fd = open_at(r->dirfd, relpath, O_WRONLY | O_TRUNC);
        if (fd < 0)
                return fd;
        line = xasprintf("%s\n", value);
        len = strlen(line);
        /* One write(2): the kernel parses each write as a whole value. */
        n = write(fd, line, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

/* --- kept-open files ----------------------------------------------------- */

int kfile_open_kept(const struct kroot *r, const char *relpath)
{
        return open_read(r->dirfd, relpath, 0);
}

int kfile_open_kept_at(int dirfd, const char *relpath)
{
        return open_read(dirfd, relpath, 0);
}

/* read_to_end() with pread(2) from offset 0: the file position of a kept fd
 * never matters, and a seq_file or sysfs attribute read at offset 0 is
 * generated afresh. */
ssize_t kfile_pread(int fd, char *buf, size_t size)
{
        size_t len = 0;

        if (size < 1)
                return -E2BIG;
        for (;;) {
                char extra;
                bool full = len + 1 >= size;
                ssize_t n = pread(fd, full ? &extra : buf + len, full ? 1 : size - 1 - len, (off_t) len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return gone_as_enoent(-errno);
                if (n == 0)
                        break;
                if (full)
                        return -E2BIG;
                len += (size_t) n;
        }
        buf[len] = '\0';
        return (ssize_t) len;
}

ssize_t kfile_pread_once(int fd, char *buf, size_t size)
{
        ssize_t n;

        if (size < 2)
                return -E2BIG;
        do
                n = pread(fd, buf, size - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return gone_as_enoent(-errno);
        if ((size_t) n == size - 1)
                return -E2BIG;  /* maybe more: not a file for this */
        buf[n] = '\0';
        return n;
}
