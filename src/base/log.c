/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#define MAX_FIELDS 16

static enum log_target log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

static const char *journal_socket = "/run/systemd/journal/socket";

void log_set_journal_socket(const char *path) { journal_socket = path; }

/* Started without --foreground where no journald listens (a container, a
 * rescue shell): stderr from the start, not a failed send per line. */
void log_setup(enum log_target target, int max_level)
{
        log_target = target == LOG_TARGET_JOURNAL && access(journal_socket, F_OK) < 0 ? LOG_TARGET_STDERR : target;
        log_max_level = max_level;
}

const char *log_format_u64(char buf[static 24], uint64_t v)
{
        snprintf(buf, 24, "%" PRIu64, v);
        return buf;
}

const char *log_format_i64(char buf[static 24], int64_t v)
{
        snprintf(buf, 24, "%" PRId64, v);
        return buf;
}

const char *log_format_seconds(char buf[static 32], uint64_t usec)
{
        snprintf(buf, 32, "%.3f", usec / 1e6);
        return buf;
}

void log_set_max_level(int max_level) { log_max_level = max_level; }
int log_get_max_level(void) { return log_max_level; }

int log_level_from_string(const char *s)
{
        for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
                if (streq(s, level_names[i]))
                        return i;
        return -EINVAL;
}

const char *log_level_to_string(int level)
{
        if (level < 0 || level > LOG_DEBUG)
                return "?";
        return level_names[level];
}

/* VMTUNED_KEY=<whole name> becomes VMTUNED_SECTION, VMTUNED_INSTANCE (the
 * words between, joined by '/': "vda", "cpu3/state2"), VMTUNED_KEY (the
 * last word) and VMTUNED_SETTING (the whole name). */
static size_t key_fields(const char *name, char **ret, size_t max)
{
        const char *first = strchr(name, ' '), *last = strrchr(name, ' ');
        size_t n = 0;

        if (!first || max < 4) {
                if (max > 0)
                        ret[n++] = xasprintf("VMTUNED_KEY=%s", name);
                return n;
        }
        ret[n++] = xasprintf("VMTUNED_SECTION=%.*s", (int) (first - name), name);
        if (last > first) {
                char *instance = xasprintf("VMTUNED_INSTANCE=%.*s", (int) (last - first - 1), first + 1);

                for (char *c = instance; *c; c++)
                        if (*c == ' ')
                                *c = '/';
                ret[n++] = instance;
        }
        ret[n++] = xasprintf("VMTUNED_KEY=%s", last + 1);
        ret[n++] = xasprintf("VMTUNED_SETTING=%s", name);
        return n;
}

size_t log_journal_fields(int level, const char *message_id, const struct log_field *fields, int error,
                          const char *message, char **ret, size_t max)
{
        size_t n = 0;

        if (max < 5)
                return 0;
        ret[n++] = xasprintf("MESSAGE=%s", message);
        ret[n++] = xasprintf("PRIORITY=%d", level);
        ret[n++] = xasprintf("SYSLOG_IDENTIFIER=vmtuned");
        if (message_id)
                ret[n++] = xasprintf("MESSAGE_ID=%s", message_id);
        if (error > 0)
                ret[n++] = xasprintf("ERRNO=%d", error);
        for (size_t i = 0; fields && fields[i].name && n < max; i++) {
                if (!fields[i].value)
                        continue;
                if (streq(fields[i].name, "VMTUNED_KEY"))
                        n += key_fields(fields[i].value, ret + n, max - n);
                else
                        ret[n++] = xasprintf("%s=%s", fields[i].name, fields[i].value);
        }
        return n;
}

static int log_to_journal(int level, const char *message_id, const struct log_field *fields,
                          int error, const char *message)
{
        char *strings[MAX_FIELDS + 8];
        struct iovec iov[MAX_FIELDS + 8];
        size_t n = log_journal_fields(level, message_id, fields, error, message, strings, ARRAY_SIZE(strings));
        int r;

        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec){ .iov_base = strings[i], .iov_len = strlen(strings[i]) };
        r = sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < n; i++)
                free(strings[i]);
        return r;
}

/* The one writer behind log_event() and log_event_errno(). error > 0 is an
 * errno value: the format's %m expands to its text and the journal entry
 * gets ERRNO=. */
static _printf_(5, 0) void log_eventv(int level, const char *message_id, const struct log_field *fields,
                       int error, const char *fmt, va_list ap)
{
        _cleanup_free_ char *message = NULL;
        int saved_errno = errno;

        if (level > log_max_level)
                return;

        errno = error; /* for %m */
        if (vasprintf(&message, fmt, ap) < 0)
                message = NULL;
        if (message) {
                /* No journal (journald stopped, or none on this machine):
                 * the line goes to stderr rather than nowhere. */
                if (log_target != LOG_TARGET_JOURNAL ||
                    log_to_journal(level, message_id, fields, error, message) < 0)
                        fprintf(stderr, "vmtuned[%s]: %s\n", log_level_to_string(level), message);
        }
        errno = saved_errno;
}

void log_event(int level, const char *message_id, const struct log_field *fields,
               const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_eventv(level, message_id, fields, 0, fmt, ap);
        va_end(ap);
}

int log_event_errno(int level, int r, const char *message_id, const struct log_field *fields,
                    const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        log_eventv(level, message_id, fields, r < 0 ? -r : r, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -r;
}
