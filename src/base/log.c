/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#define MAX_FIELDS 16

static enum log_target log_target = LOG_TARGET_STDERR;
static int log_max_level = LOG_INFO;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit",
        [LOG_ERR] = "err",     [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_setup(enum log_target target, int max_level)
{
        log_target = target;
        log_max_level = max_level;
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

static void log_to_journal(int level, const char *message_id, const struct log_field *fields,
                           int error, const char *message)
{
        char *strings[MAX_FIELDS + 5];
        struct iovec iov[MAX_FIELDS + 5];
        size_t n = 0;

        strings[n++] = xasprintf("MESSAGE=%s", message);
        strings[n++] = xasprintf("PRIORITY=%d", level);
        strings[n++] = xasprintf("SYSLOG_IDENTIFIER=vmtuned");
        if (message_id)
                strings[n++] = xasprintf("MESSAGE_ID=%s", message_id);
        if (error > 0)
                strings[n++] = xasprintf("ERRNO=%d", error);
        for (size_t i = 0; fields && fields[i].name && n < ARRAY_SIZE(strings); i++)
                if (fields[i].value)
                        strings[n++] = xasprintf("%s=%s", fields[i].name, fields[i].value);

        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec){ .iov_base = strings[i], .iov_len = strlen(strings[i]) };
        /* Ignoring failure on purpose: no journal means no log, not no daemon. */
        (void) sd_journal_sendv(iov, (int) n);
        for (size_t i = 0; i < n; i++)
                free(strings[i]);
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
                if (log_target == LOG_TARGET_JOURNAL)
                        log_to_journal(level, message_id, fields, error, message);
                else
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
