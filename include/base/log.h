/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One place for every log line: structured journald entries under systemd,
 * readable lines on stderr in the foreground. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "base/util.h"

/* One MESSAGE_ID per outcome, so `journalctl MESSAGE_ID=...` finds one kind
 * of event and not its opposite. Every ID has an entry in
 * systemd/vmtuned.catalog (what `journalctl -x` explains) and a line in
 * vmtuned(8); tests/check-catalog keeps the three in agreement and fails on
 * a warning or error logged without an ID. Never change a published ID:
 * where one used to cover several outcomes it stays with the first below,
 * and the others got new ones. */
#define MSGID_STARTED               "e9549ace7ecb4e47b0a9d3e2f136b5f9"
#define MSGID_STOPPED               "c7a7970017ac47ea9d67b86730b8c91e" /* everything restored */
#define MSGID_STOPPED_PARTIAL       "e7c122dfd5b040c38e76d38dac664d43" /* some left as others set them */
#define MSGID_STOPPED_PENDING       "130be251ba6f4252bb3a80a1299063a8" /* originals stay in the journal */
#define MSGID_RELOADED              "8a23edbc4b1e4b2ea3476bc2536bc126"
#define MSGID_CONFIG_ERROR          "749a4da5da9345bb8ff7e1cc6106520e"
#define MSGID_DAEMON_FAILED         "ab6ee9640a1f429d9ba6993889e0ca84"
#define MSGID_ALREADY_RUNNING       "a42f4fe4afec4fe7b89671cbfa368dbd"
#define MSGID_RUNTIME_DIR_FAILED    "bd436439eb1d490daf03c5d2392c9855"
#define MSGID_FEATURE_DISABLED      "bb25b419a20d4a7fabaccb759b2c845e"
#define MSGID_SETTING_APPLIED       "1d82fcf53f064db5a3d9934b3f98880f"
#define MSGID_SETTING_ABSENT        "4afe0a4dd3e24eedaaac4e90a8553aae" /* was: missing or refused */
#define MSGID_SETTING_REFUSED       "583fed1926d248b3ab8faaad66455735"
#define MSGID_SETTING_ADJUSTED      "7b197a7f499a4dc99e20e28166979087"
#define MSGID_SETTING_RESTORED      "88615d1e8d4c4e7ca6f5764cfdd3cbb0"
#define MSGID_SETTING_NOT_RESTORED  "3079223220bc4c188d165134f3584fdb"
#define MSGID_SETTING_GONE          "5f8bcbb1fe3c4a6c9dcff2624f3a2793"
#define MSGID_SETTING_DRIFT         "f1aaf4a0f1ce4af2b9b8c0c63f73a658"
#define MSGID_CRASH_RECOVERY        "fd5d12a1394d40fd8e94285d614a0b91"
#define MSGID_ROLLBACK_REFUSED      "b5ac724cf5e04343bee69783b0218d78"
#define MSGID_ROLLBACK_FAILED       "3925af12c8a24eeb999f621ddff34719"
#define MSGID_PROFILE_SWITCH        "5342067add1a4730ba30663cdaa6790b"
#define MSGID_SAVED_PROFILE_IGNORED "05ab093b98794340bc778d94eed2a423"
#define MSGID_STATE_SAVE_FAILED     "b89e4dbcafbe44088e4beba1e3ee8660"
#define MSGID_DOMAIN_EVENT          "fa8958ba0c0d466a8d3a394dc312b8bf"
#define MSGID_DOMAIN_UNREADABLE     "9c70aa918ecb43e4b16dba0f96458982"
#define MSGID_LIBVIRT_CONNECTED     "46075a1c17cd457c9292b7d72a9ae410" /* was: made or lost */
#define MSGID_LIBVIRT_LOST          "fdd70e2ccf284277bc01331cbcde83e2"
#define MSGID_LIBVIRT_CONNECT_FAILED "c2f12cd67cfa479f902f5b946571d613"
#define MSGID_LIBVIRT_URI_CHANGED   "1fdfa79771fe4781a6b30da1bfca56f5"
#define MSGID_LIBVIRT_EVENT_LOOP    "db3decac606b48d6b4b9abe8898b0962"
#define MSGID_BALANCE_MOVE          "6658ccc8213047e7a95a2d3770805320" /* done; was: done, failed or dry run */
#define MSGID_BALANCE_MOVE_FAILED   "273c649a899e46639cc088692ef60781"
#define MSGID_BALANCE_MOVE_DRY_RUN  "40148ab74fb14d76980c44a7a942a8d4"
#define MSGID_BALANCE_DECISION      "4548bab818164fa49196ac969c8978ac"
#define MSGID_BALANCE_ERROR         "fdf2cccb9ed24a679ad8aa805f9aea7e"
#define MSGID_KSM_STARTED           "7883472a04064d308bc0c97b54b64c6a" /* was: started, stopped or unmerged */
#define MSGID_KSM_STOPPED           "c7683a1a5fc24364991c3fb44961aac1"
#define MSGID_KSM_UNMERGING         "72a71029d84e4e77ba4f14096b25635f"
#define MSGID_KSM_UNMERGE_SKIPPED   "ebf320b405f643479312babf69dfbd29"
#define MSGID_KSM_READ_FAILED       "ed1ba27d5ceb4648aeb55f44d12ec8a1"
#define MSGID_DISK_HOTPLUG          "7f3039df216147ce86744490b447d017"
#define MSGID_UEVENTS_LOST          "4c9a580b22e24d43a3f133808450e07e"
#define MSGID_CONTROL_ERROR         "169f28dde88a4065ab199c421eeb2d38"
#define MSGID_METRICS_WRITE_FAILED  "9d4333ca42cc4bfa84d6108987fbd61b"

enum log_target {
        LOG_TARGET_STDERR,  /* --foreground: "vmtuned[warning]: message" lines */
        LOG_TARGET_JOURNAL, /* under systemd: sd_journal_send with fields; stderr
                             * where no journal socket exists or a send fails */
};

/* An extra journal field, e.g. { "VMTUNED_DOMAIN", "db01" }. VMTUNED_KEY
 * takes a setting's whole name as `vmtunectl verify` prints it ("sysctl
 * vm.swappiness", "disk vda scheduler"); the journal gets it as
 * VMTUNED_SECTION=disk VMTUNED_INSTANCE=vda VMTUNED_KEY=scheduler (and the
 * whole name in VMTUNED_SETTING), so that filters need no quoting. */
struct log_field {
        const char *name;
        const char *value;
};

/* A NULL-terminated compound literal of fields, for log_event(). */
#define LOG_FIELDS(...) ((const struct log_field[]){ __VA_ARGS__, { NULL, NULL } })

/* Numbers as journal field values, in a buffer that lives as long as the
 * enclosing block: { "VMTUNED_MIB", LOG_U64(mib) }. */
#define LOG_U64(v)          log_format_u64((char[24]){ 0 }, (v))
#define LOG_I64(v)          log_format_i64((char[24]){ 0 }, (v))
#define LOG_SECONDS(usec)   log_format_seconds((char[32]){ 0 }, (usec))
const char *log_format_u64(char buf[static 24], uint64_t v);
const char *log_format_i64(char buf[static 24], int64_t v);
const char *log_format_seconds(char buf[static 32], uint64_t usec);

void log_setup(enum log_target target, int max_level);
/* For tests: the socket whose absence makes LOG_TARGET_JOURNAL log to
 * stderr (default /run/systemd/journal/socket). */
void log_set_journal_socket(const char *path);
/* For tests: the fields one entry sends to the journal, as "NAME=value"
 * strings in ret (at most max, each to be freed); returns how many. */
size_t log_journal_fields(int level, const char *message_id, const struct log_field *fields, int error,
                          const char *message, char **ret, size_t max);
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

/* Without a MESSAGE_ID: fine for notice, info and debug; a warning or error
 * in src/ goes through log_event() or log_event_errno() with its MSGID_
 * (tests/check-catalog fails on log_error() and log_warning() there). */
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
