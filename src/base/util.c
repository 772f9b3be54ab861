/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

static void *oom(void)
{
        fputs("vmtuned: out of memory\n", stderr);
        abort();
}

char *xstrdup(const char *s)
{
        char *r = strdup(s);
        return r ? r : oom();
}

void *xcalloc(size_t n, size_t size)
{
        void *r = calloc(n ? n : 1, size ? size : 1);
        return r ? r : oom();
}

void *xreallocarray(void *p, size_t n, size_t size)
{
        void *r = reallocarray(p, n ? n : 1, size ? size : 1);
        return r ? r : oom();
}

char *xvasprintf(const char *fmt, va_list ap)
{
        char *r;

        if (vasprintf(&r, fmt, ap) < 0)
                r = oom();
        return r;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        r = xvasprintf(fmt, ap);
        va_end(ap);
        return r;
}

int parse_long(const char *s, long min, long max, long *ret)
{
        char *end;
        long v;

        if (!s || !*s)
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end != '\0' || end == s)
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int write_full(int fd, const char *s, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, s, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                s += n;
                len -= (size_t) n;
        }
        return 0;
}

int fsync_directory(const char *dir)
{
        _cleanup_close_ int fd = -1;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int write_file_replace(const char *dir, const char *path, const char *text, mode_t mode)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
        int fd, r;

        if (unlink(tmp) < 0 && errno != ENOENT)
                return -errno;
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        r = write_full(fd, text, strlen(text));
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync_directory(dir);
}
