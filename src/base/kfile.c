/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/kfile.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>

#include "base/log.h"
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

static int kfile_open(const struct kroot *r, const char *relpath, int flags)
{
        int fd;

        if (!kfile_path_valid(relpath))
                return -EINVAL;
        /* No O_NOFOLLOW: sys/block/X are symlinks into sys/devices. The path
         * itself is checked above, so it cannot climb out of the prefix. */
        fd = openat(r->dirfd, relpath, flags | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fd;
}

int kfile_read(const struct kroot *r, const char *relpath, char *buf, size_t size)
{
        _cleanup_close_ int fd = -1;
        size_t len = 0;

        if (size < 2)
                return -E2BIG;
        fd = kfile_open(r, relpath, O_RDONLY);
        if (fd < 0)
                return fd;
        for (;;) {
                ssize_t n;

                if (len == size - 1) {
                        char extra;

                        /* Full buffer: only fine if the file ends exactly here. */
                        n = read(fd, &extra, 1);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                return -errno;
                        if (n > 0)
                                return -E2BIG;
                        break;
                }
                n = read(fd, buf + len, size - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = '\0';
        kfile_normalize(buf);
        return 0;
}

int kfile_read_all(const struct kroot *r, const char *relpath, char **ret)
{
        _cleanup_close_ int fd = -1;
        int k;

        fd = kfile_open(r, relpath, O_RDONLY);
        if (fd < 0)
                return fd;
        k = read_fd_all(fd, 64u << 20, ret, NULL);
        /* A process that exits while we read its /proc files: gone, like ENOENT. */
        return k == -ESRCH ? -ENOENT : k;
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
        fd = kfile_open(r, relpath, O_WRONLY | O_TRUNC);
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
