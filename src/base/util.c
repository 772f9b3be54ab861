/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/util.h"

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

int read_fd_all(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, size = 0;

        for (;;) {
                ssize_t n;

                if (len + 1 >= size) {
                        if (size >= max)
                                return -E2BIG;
                        size = size ? size * 2 : 4096;
                        buf = xreallocarray(buf, size, 1);
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
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}
