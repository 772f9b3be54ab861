/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One place for every log line: structured journald entries under systemd,
 * readable lines on stderr in the foreground. */
#pragma once

#include <syslog.h>

#include "base/util.h"

/* One MESSAGE_ID per kind of event, so `journalctl MESSAGE_ID=...` finds
 * them. Listed in vmtuned(8); never change a published ID. */
#define MSGID_STARTED            "e9549ace7ecb4e47b0a9d3e2f136b5f9"
#define MSGID_STOPPED            "c7a7970017ac47ea9d67b86730b8c91e"
#define MSGID_RELOADED           "8a23edbc4b1e4b2ea3476bc2536bc126"
#define MSGID_CONFIG_ERROR       "749a4da5da9345bb8ff7e1cc6106520e"
#define MSGID_SETTING_APPLIED    "1d82fcf53f064db5a3d9934b3f98880f"
#define MSGID_SETTING_SKIPPED    "4afe0a4dd3e24eedaaac4e90a8553aae"
#define MSGID_SETTING_RESTORED   "88615d1e8d4c4e7ca6f5764cfdd3cbb0"
#define MSGID_SETTING_DRIFT      "f1aaf4a0f1ce4af2b9b8c0c63f73a658"
#define MSGID_CRASH_RECOVERY     "fd5d12a1394d40fd8e94285d614a0b91"
#define MSGID_PROFILE_SWITCH     "5342067add1a4730ba30663cdaa6790b"
#define MSGID_DOMAIN_EVENT       "fa8958ba0c0d466a8d3a394dc312b8bf"
#define MSGID_LIBVIRT_CONNECTION "46075a1c17cd457c9292b7d72a9ae410"
#define MSGID_BALANCE_MOVE       "6658ccc8213047e7a95a2d3770805320"
#define MSGID_BALANCE_DECISION   "4548bab818164fa49196ac969c8978ac"
#define MSGID_KSM_STATE          "7883472a04064d308bc0c97b54b64c6a"
#define MSGID_DISK_HOTPLUG       "7f3039df216147ce86744490b447d017"

enum log_target {
        LOG_TARGET_STDERR,  /* --foreground: "vmtuned[warning]: message" lines */
        LOG_TARGET_JOURNAL, /* under systemd: sd_journal_send with fields */
};

/* An extra journal field, e.g. { "VMTUNED_KEY", "vm.swappiness" }. */
struct log_field {
        const char *name;
        const char *value;
};

/* A NULL-terminated compound literal of fields, for log_event(). */
#define LOG_FIELDS(...) ((const struct log_field[]){ __VA_ARGS__, { NULL, NULL } })

void log_setup(enum log_target target, int max_level);
void log_set_max_level(int max_level);
int log_get_max_level(void);

/* "err", "warning", "notice", "info", "debug" -> LOG_*, or -EINVAL. */
int log_level_from_string(const char *s);
const char *log_level_to_string(int level);

/* Log one event with its MESSAGE_ID (may be NULL) and extra fields (may be
 * NULL). Never fails: logging must not change what the daemon does. */
void log_event(int level, const char *message_id, const struct log_field *fields,
               const char *fmt, ...) _printf_(4, 5);

/* The same for a failed call: r is -errno (or errno); "%m" in fmt is its
 * text, the journal entry gets ERRNO=, and the result is -errno, so an
 * error is logged once where it is handled and returned in one line:
 *     return log_error_errno(r, "Cannot open %s: %m", path);
 * (systemd's log_error_errno habit, STYLE 6). */
int log_event_errno(int level, int r, const char *message_id, const struct log_field *fields,
                    const char *fmt, ...) _printf_(5, 6);

#define log_error(...)   log_event(LOG_ERR, NULL, NULL, __VA_ARGS__)
#define log_warning(...) log_event(LOG_WARNING, NULL, NULL, __VA_ARGS__)
#define log_notice(...)  log_event(LOG_NOTICE, NULL, NULL, __VA_ARGS__)
#define log_info(...)    log_event(LOG_INFO, NULL, NULL, __VA_ARGS__)
#define log_debug(...)   log_event(LOG_DEBUG, NULL, NULL, __VA_ARGS__)

#define log_error_errno(r, ...)   log_event_errno(LOG_ERR, (r), NULL, NULL, __VA_ARGS__)
#define log_warning_errno(r, ...) log_event_errno(LOG_WARNING, (r), NULL, NULL, __VA_ARGS__)
#define log_notice_errno(r, ...)  log_event_errno(LOG_NOTICE, (r), NULL, NULL, __VA_ARGS__)
#define log_info_errno(r, ...)    log_event_errno(LOG_INFO, (r), NULL, NULL, __VA_ARGS__)
#define log_debug_errno(r, ...)   log_event_errno(LOG_DEBUG, (r), NULL, NULL, __VA_ARGS__)
