/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers every module uses: cleanup attributes, string helpers. */
#pragma once

#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) close(*fd); }

/* Free or close automatically when the variable leaves scope. */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _p = (p); (p) = NULL; _p; })
#define TAKE_FD(fd) ({ int _fd = (fd); (fd) = -1; _fd; })

#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool streq_ptr(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}
static inline bool startswith(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* strdup that aborts on OOM: a daemon that cannot allocate a few bytes
 * cannot do anything useful, and every caller checking it hides the logic. */
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Parse a whole decimal integer in [min, max]; -EINVAL or -ERANGE. */
int parse_long(const char *s, long min, long max, long *ret);

/* write(2) until all of s is written (EINTR retried); 0 or -errno. */
int write_full(int fd, const char *s, size_t len);

/* Replace the file path (in directory dir) with text, durably: a crash at
 * any moment leaves either the old or the new file, whole. Written to
 * PATH.tmp, which is unlinked first and created O_EXCL|O_NOFOLLOW, so a
 * leftover or anything planted at that name is never written through; then
 * fsync, rename over path, fsync dir. 0 or -errno. */
int write_file_replace(const char *dir, const char *path, const char *text, mode_t mode);

/* fsync(2) a directory, so that a rename or unlink in it is on disk; 0
 * or -errno. */
int fsync_directory(const char *dir);
