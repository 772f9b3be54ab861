/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The persisted profile choice (see include/daemon/state.h): parse and
 * format are pure, read and write do the file's I/O. */
#include "daemon/state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/util.h"
#include "config/profile.h"

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
#define STRINGIFY_MAX STRINGIFY(STATE_PROFILE_MAX)

/* One name and its newline (the last line's may be missing); NULL if the
 * line is not a valid profile name. *pos moves past it. */
static char *take_name(const char *buf, size_t len, size_t *pos)
{
        const char *start = buf + *pos, *nl = memchr(start, '\n', len - *pos);
        size_t n = nl ? (size_t) (nl - start) : len - *pos;
        _cleanup_free_ char *name = NULL;

        if (memchr(start, '\0', n))
                return NULL;
        name = xcalloc(1, n + 1);
        memcpy(name, start, n);
        if (!profile_name_valid(name))
                return NULL;
        *pos += n + (nl != NULL);
        return TAKE_PTR(name);
}

int state_profile_parse(const char *buf, size_t len, struct state_profile *ret)
{
        _cleanup_free_ char *name = NULL, *base = NULL;
        size_t pos = 0;

        if (len > STATE_PROFILE_MAX)
                return -EFBIG;
        name = take_name(buf, len, &pos);
        if (!name)
                return -EINVAL;
        if (pos < len) {
                base = take_name(buf, len, &pos);
                if (!base || pos < len)
                        return -EINVAL;
        }
        *ret = (struct state_profile){ .name = TAKE_PTR(name), .base = TAKE_PTR(base) };
        return 0;
}

char *state_profile_format(const char *name, const char *base)
{
        return base ? xasprintf("%s\n%s\n", name, base) : xasprintf("%s\n", name);
}

bool state_profile_applies(const struct state_profile *s, const char *base)
{
        return !s->base || streq_ptr(s->base, base);
}

void state_profile_clear(struct state_profile *s)
{
        free(s->name);
        free(s->base);
        *s = (struct state_profile){};
}

char *state_profile_path(const char *dir)
{
        return xasprintf("%s/" STATE_PROFILE_FILE, dir);
}

int state_profile_read(const char *dir, struct state_profile *ret)
{
        _cleanup_free_ char *path = state_profile_path(dir);
        _cleanup_close_ int fd = -1;
        char buf[STATE_PROFILE_MAX + 1];
        size_t len = 0;
        struct stat st;
        int r;

        /* O_NONBLOCK: a FIFO planted there must not hang the start. */
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* It chooses what root applies: only we may have written it. */
        if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) || (st.st_mode & 022))
                return -EPERM;
        while (len < sizeof(buf)) {
                ssize_t n = read(fd, buf + len, sizeof(buf) - len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        r = state_profile_parse(buf, len, ret);
        return r < 0 ? r : 1;
}

const char *state_profile_strerror(int r)
{
        switch (r) {
        case -EINVAL: return "not one or two profile names, one a line";
        case -EFBIG: return "larger than " STRINGIFY_MAX " bytes";
        case -EPERM: return "not a regular file owned by root that only root may write";
        case -ELOOP: return "a symbolic link";
        default: return strerror(-r);
        }
}

int state_profile_write(const char *dir, const char *name, const char *base)
{
        _cleanup_free_ char *path = state_profile_path(dir);
        _cleanup_free_ char *text = state_profile_format(name, base);

        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
        return write_file_replace(dir, path, text, 0644);
}

int state_profile_remove(const char *dir)
{
        _cleanup_free_ char *path = state_profile_path(dir);

        if (unlink(path) < 0)
                return errno == ENOENT ? 0 : -errno;
        (void) fsync_directory(dir);
        return 1;
}

char *profile_source_describe(enum profile_source source, const char *config_file, const char *state_dir,
                              bool dry_run)
{
        _cleanup_free_ char *file = state_profile_path(state_dir);

        switch (source) {
        case PROFILE_SOURCE_COMMAND_LINE:
                return xstrdup("command line");
        case PROFILE_SOURCE_PERSISTED:
                return xasprintf("vmtunectl profile (persisted in %s)", file);
        case PROFILE_SOURCE_UNSAVED:
                return xasprintf("vmtunectl profile (not persisted%s; lasts until the next reload or restart)",
                                 dry_run ? ": dry run" : ", see the journal");
        case PROFILE_SOURCE_CONFIG:
                return xasprintf("configuration file %s", config_file);
        case PROFILE_SOURCE_DEFAULT:
        default:
                return xstrdup("built-in default");
        }
}

const char *profile_source_to_string(enum profile_source source)
{
        switch (source) {
        case PROFILE_SOURCE_COMMAND_LINE: return "command-line";
        case PROFILE_SOURCE_PERSISTED:
        case PROFILE_SOURCE_UNSAVED: return "vmtunectl";
        case PROFILE_SOURCE_CONFIG: return "configuration-file";
        case PROFILE_SOURCE_DEFAULT:
        default: return "built-in-default";
        }
}
