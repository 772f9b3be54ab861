/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "tuning/rollback.h"
#include "tuning/hugepages-policy.h"

#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "base/kfile.h"
#include "base/log.h"
#include "base/util.h"

#define JOURNAL_HEADER "# vmtuned rollback journal v1"

/* --- pure (de)serialisation ---------------------------------------------- */

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
        if (*len + n + 1 > *cap) {
                while (*len + n + 1 > *cap)
                        *cap = *cap ? *cap * 2 : 256;
                *buf = xreallocarray(*buf, *cap, 1);
        }
        memcpy(*buf + *len, s, n);
        *len += n;
        (*buf)[*len] = '\0';
}

static void append_escaped(char **buf, size_t *len, size_t *cap, const char *s)
{
        for (; *s; s++) {
                switch (*s) {
                case '\\': append(buf, len, cap, "\\\\", 2); break;
                case '\t': append(buf, len, cap, "\\t", 2); break;
                case '\n': append(buf, len, cap, "\\n", 2); break;
                default: append(buf, len, cap, s, 1); break;
                }
        }
}

char *rollback_format(const struct rollback_entry *entries, size_t n)
{
        char *buf = NULL;
        size_t len = 0, cap = 0;

        append(&buf, &len, &cap, JOURNAL_HEADER "\n", strlen(JOURNAL_HEADER) + 1);
        for (size_t i = 0; i < n; i++) {
                const char *fields[] = { entries[i].key, entries[i].path,
                                         entries[i].original, entries[i].written, entries[i].previous };
                /* the fifth field only while a rewrite is in flight */
                size_t n_fields = entries[i].previous ? 5 : 4;

                for (size_t f = 0; f < n_fields; f++) {
                        append_escaped(&buf, &len, &cap, fields[f]);
                        append(&buf, &len, &cap, f + 1 < n_fields ? "\t" : "\n", 1);
                }
        }
        return buf;
}

/* Unescape one field of [s, end) into a new string; -EBADMSG on an unknown
 * or truncated escape. */
static int unescape(const char *s, const char *end, char **ret)
{
        _cleanup_free_ char *out = xcalloc((size_t) (end - s) + 1, 1);
        char *w = out;

        for (; s < end; s++) {
                if (*s != '\\') {
                        *w++ = *s;
                        continue;
                }
                if (++s == end)
                        return -EBADMSG;
                switch (*s) {
                case '\\': *w++ = '\\'; break;
                case 't': *w++ = '\t'; break;
                case 'n': *w++ = '\n'; break;
                default: return -EBADMSG;
                }
        }
        *w = '\0';
        *ret = TAKE_PTR(out);
        return 0;
}

static void entry_clear(struct rollback_entry *e)
{
        free(e->key);
        free(e->path);
        free(e->original);
        free(e->written);
        free(e->previous);
        *e = (struct rollback_entry){};
}

void rollback_entries_free(struct rollback_entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++)
                entry_clear(&entries[i]);
        free(entries);
}

/* One entry line (without its '\n'): four fields, or five with the
 * previous value of a rewrite in flight; key and path not empty, path
 * valid under the root prefix. */
static int parse_line(const char *s, const char *end, struct rollback_entry *ret)
{
        struct rollback_entry e = {};
        char **fields[] = { &e.key, &e.path, &e.original, &e.written, &e.previous };
        int r = 0;

        for (size_t f = 0; f < ARRAY_SIZE(fields); f++) {
                const char *tab = memchr(s, '\t', (size_t) (end - s));
                const char *field_end = tab ? tab : end;

                /* a tab after the fourth field opens the fifth, none may follow it */
                if ((f < 3 && !tab) || (f == 4 && tab)) {
                        r = -EBADMSG; /* too few or too many fields */
                        break;
                }
                r = unescape(s, field_end, fields[f]);
                if (r < 0 || !tab)
                        break;
                s = tab + 1;
        }
        /* A journal path outside the root prefix would make restore write
         * anywhere: refuse it like any other corruption. */
        if (r == 0 && (!*e.key || !kfile_path_valid(e.path)))
                r = -EBADMSG;
        if (r < 0) {
                entry_clear(&e);
                return r;
        }
        *ret = e;
        return 0;
}

/* Parse the journal; on -EBADMSG *ret_bad_line is the line at fault. The
 * journal is only ever replaced whole by rename, so anything that is not
 * exactly what rollback_format writes is corruption: never guess. */
static int parse_journal(const char *text, struct rollback_entry **ret, size_t *ret_n,
                         unsigned *ret_bad_line)
{
        struct rollback_entry *entries = NULL;
        size_t n = 0;
        unsigned line = 1;
        const char *p = text;
        int r = 0;

        for (; *p; line++) {
                const char *nl = strchr(p, '\n');

                if (!nl) {
                        r = -EBADMSG; /* truncated last line */
                        break;
                }
                if (line == 1) {
                        if ((size_t) (nl - p) != strlen(JOURNAL_HEADER) ||
                            strncmp(p, JOURNAL_HEADER, (size_t) (nl - p)) != 0) {
                                r = -EBADMSG;
                                break;
                        }
                } else {
                        entries = xreallocarray(entries, n + 1, sizeof(*entries));
                        r = parse_line(p, nl, &entries[n]);
                        if (r < 0)
                                break;
                        n++;
                }
                p = nl + 1;
        }
        if (r == 0 && line == 1)
                r = -EBADMSG; /* empty: not even the header */
        if (r < 0) {
                rollback_entries_free(entries, n);
                *ret_bad_line = line;
                return r;
        }
        *ret = entries;
        *ret_n = n;
        return 0;
}

int rollback_parse(const char *text, struct rollback_entry **ret, size_t *ret_n)
{
        unsigned bad_line;

        return parse_journal(text, ret, ret_n, &bad_line);
}

int rollback_parse_at(const char *text, struct rollback_entry **ret, size_t *ret_n,
                      unsigned *ret_bad_line)
{
        return parse_journal(text, ret, ret_n, ret_bad_line);
}

/* --- the journal file ---------------------------------------------------- */

/* Is this file or directory one only we could have written? Owned by our
 * euid (root, for the daemon) and not writable by group or others: a
 * journal is written back into the kernel at the next start, so a journal
 * someone else could have put there, or could swap in a directory they
 * can write, is not ours to believe. NULL if so, else why not. */
static const char *not_ours(const struct stat *st)
{
        if (st->st_uid != geteuid())
                return "is not owned by the user vmtuned runs as";
        if (st->st_mode & (S_IWGRP | S_IWOTH))
                return "is writable by group or others";
        return NULL;
}

/* Read the journal at path; -ENOENT when there is none. Logs why it
 * refuses one, like rollback_open(). O_NONBLOCK: a FIFO in its place must
 * not hang the start-up (before signals are set up) waiting for a writer. */
static int read_journal(const char *path, char **ret)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        const char *why;
        struct stat st;
        size_t len;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0 && errno == ELOOP)
                return log_event_errno(LOG_ERR, errno, MSGID_ROLLBACK_REFUSED, NULL,
                                       "%s is a symlink, not a rollback journal vmtuned wrote; "
                                       "refusing to follow it (inspect it, then remove it)", path);
        if (fd < 0)
                return log_event_errno(LOG_ERR, errno, MSGID_ROLLBACK_FAILED, NULL,
                                       "cannot read rollback journal %s: %m", path);
        if (fstat(fd, &st) < 0)
                return log_event_errno(LOG_ERR, errno, MSGID_ROLLBACK_FAILED, NULL,
                                       "cannot stat rollback journal %s: %m", path);
        if (!S_ISREG(st.st_mode)) {
                log_event(LOG_ERR, MSGID_ROLLBACK_REFUSED, NULL,
                          "%s is not a regular file, not a rollback journal vmtuned wrote; "
                          "refusing it (inspect it, then remove it)", path);
                return -EBADMSG;
        }
        why = not_ours(&st);
        if (why) {
                log_event(LOG_ERR, MSGID_ROLLBACK_REFUSED, NULL,
                          "rollback journal %s %s (owner uid %u, mode %04o): refusing to restore "
                          "what someone else may have written (inspect it, restore by hand, then remove it)",
                          path, why, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        r = kfile_read_fd(fd, 16u << 20, &buf, &len);
        if (r < 0)
                return log_event_errno(LOG_ERR, r, MSGID_ROLLBACK_FAILED, NULL,
                                       "cannot read rollback journal %s: %m", path);
        if (strlen(buf) != len) {
                log_event(LOG_ERR, MSGID_ROLLBACK_REFUSED, NULL,
                          "%s: a NUL byte: not a rollback journal vmtuned wrote; refusing to guess the "
                          "original values (inspect it, restore by hand, then remove it)", path);
                return -EBADMSG;
        }
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The runtime directory holds the journal: it must be ours alone (see
 * not_ours()), and not a symlink to somewhere else. Logs why not. */
static int check_runtime_dir(const char *runtime_dir)
{
        const char *why;
        struct stat st;

        if (lstat(runtime_dir, &st) < 0)
                return log_event_errno(LOG_ERR, errno, MSGID_RUNTIME_DIR_FAILED, NULL,
                                       "cannot stat runtime directory %s: %m", runtime_dir);
        if (S_ISLNK(st.st_mode)) {
                log_event(LOG_ERR, MSGID_RUNTIME_DIR_FAILED, NULL,
                          "runtime directory %s is a symlink; refusing to keep the rollback journal "
                          "where it leads", runtime_dir);
                return -ELOOP;
        }
        if (!S_ISDIR(st.st_mode)) {
                log_event(LOG_ERR, MSGID_RUNTIME_DIR_FAILED, NULL,
                          "runtime directory %s is not a directory", runtime_dir);
                return -ENOTDIR;
        }
        why = not_ours(&st);
        if (why) {
                log_event(LOG_ERR, MSGID_RUNTIME_DIR_FAILED, NULL,
                          "runtime directory %s %s (owner uid %u, mode %04o): someone else could replace "
                          "the rollback journal; refusing to use it", runtime_dir, why,
                          (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

/* Replace the journal with these entries, durably: a crash at any moment
 * leaves either the old or the new journal, whole. */
static int persist(const struct rollback *rb, const struct rollback_entry *entries, size_t n)
{
        _cleanup_free_ char *text = rollback_format(entries, n);

        /* write_file_replace never writes through anything planted at the
         * temporary name: O_EXCL makes a new file of ours or fails, so a
         * hard link to some other file there cannot be truncated. (O_TMPFILE
         * would still need a name: linkat cannot replace the journal, only
         * rename can.) */
        return write_file_replace(rb->dir, rb->file, text, 0600);
}

/* Every record of a loaded journal must name a file in the kernel trees
 * vmtuned manages (kfile_path_managed()): restore writes the original back
 * to that path, as root, so a record for etc/victim (with --root /, any
 * small file) must never be acted on. Refused whole, like a corrupt line,
 * and left on disk for a person to read. Logs why. */
static int check_managed(const char *file, const struct rollback_entry *entries, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!kfile_path_managed(entries[i].path)) {
                        /* Line 1 is the header, then one line per entry. */
                        log_event(LOG_ERR, MSGID_ROLLBACK_REFUSED, NULL,
                                  "%s:%zu: %s is not a kernel tunable vmtuned manages; refusing the "
                                  "rollback journal (inspect it, restore by hand, then remove it)",
                                  file, i + 2, entries[i].path);
                        return -EBADMSG;
                }
        return 0;
}

/* Take RUNTIME_DIR/lock (see rollback.h) and write our pid into it for the
 * next one's message. The file stays: removing a lock file races with the
 * next instance opening it. */
static int take_lock(const char *runtime_dir, int *ret_fd)
{
        _cleanup_free_ char *file = xasprintf("%s/lock", runtime_dir);
        char pid[32] = "";
        int fd, r;

        fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0)
                return log_event_errno(LOG_ERR, errno, MSGID_RUNTIME_DIR_FAILED, NULL,
                                       "cannot open the lock file %s: %m", file);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                if (r == -EWOULDBLOCK) {
                        ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);

                        pid[n > 0 ? n : 0] = '\0';
                        pid[strcspn(pid, "\n")] = '\0';
                        log_event(LOG_ERR, MSGID_ALREADY_RUNNING, NULL,
                                  "another vmtuned (pid %s) is running with this runtime directory (%s); "
                                  "not touching its journal", pid[0] ? pid : "?", runtime_dir);
                        r = -EBUSY;
                } else
                        (void) log_event_errno(LOG_ERR, r, MSGID_RUNTIME_DIR_FAILED, NULL, "cannot lock %s: %m", file);
                close(fd);
                return r;
        }
        snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
                (void) log_event_errno(LOG_WARNING, errno, MSGID_RUNTIME_DIR_FAILED, NULL,
                                       "cannot write our pid to %s: %m, ignoring", file);
        *ret_fd = fd;
        return 0;
}

int rollback_open(const char *runtime_dir, struct rollback **ret, bool *ret_found_stale)
{
        _cleanup_free_ char *file = xasprintf("%s/rollback", runtime_dir);
        _cleanup_free_ char *text = NULL;
        struct rollback_entry *entries = NULL;
        struct rollback *rb;
        size_t n = 0;
        bool stale = false;
        int lock_fd = -1, r;

        /* 0755 like the unit's RuntimeDirectoryMode: a control_group member
         * must reach the socket; the journal itself is 0600. */
        if (mkdir(runtime_dir, 0755) < 0 && errno != EEXIST)
                return log_event_errno(LOG_ERR, errno, MSGID_RUNTIME_DIR_FAILED, NULL,
                                       "cannot create runtime directory %s: %m", runtime_dir);
        r = check_runtime_dir(runtime_dir);
        if (r < 0)
                return r;
        r = take_lock(runtime_dir, &lock_fd);
        if (r < 0)
                return r;
        /* A run killed between creating the temporary journal and renaming
         * it over the journal left it: never read (only the rename
         * publishes a journal), and it would outlive every later clean
         * stop of a run that has nothing to record (the chaos run found
         * one after a kill mid-switch). Ours to remove: we hold the lock. */
        {
                _cleanup_free_ char *tmp = xasprintf("%s.tmp", file);

                if (unlink(tmp) == 0)
                        log_debug("removed %s, left by a run that was killed while writing the journal", tmp);
        }

        r = read_journal(file, &text);
        if (r < 0 && r != -ENOENT) {
                close(lock_fd);
                return r; /* read_journal() said why */
        }
        if (r == 0) {
                unsigned bad_line;

                r = parse_journal(text, &entries, &n, &bad_line);
                if (r < 0) {
                        log_event(LOG_ERR, MSGID_ROLLBACK_REFUSED, NULL,
                                  "%s:%u: corrupt rollback journal line; refusing to guess the "
                                  "original values (inspect it, restore by hand, then remove it)",
                                  file, bad_line);
                        close(lock_fd);
                        return r;
                }
                r = check_managed(file, entries, n);
                if (r < 0) {
                        rollback_entries_free(entries, n);
                        close(lock_fd);
                        return r;
                }
                stale = true;
        }

        rb = xcalloc(1, sizeof(*rb));
        rb->file = TAKE_PTR(file);
        rb->dir = xstrdup(runtime_dir);
        rb->entries = entries;
        rb->n_entries = n;
        rb->lock_fd = lock_fd;
        *ret = rb;
        *ret_found_stale = stale;
        return 0;
}

const struct rollback_entry *rollback_find(const struct rollback *rb, const char *path)
{
        for (size_t i = 0; i < rb->n_entries; i++)
                if (streq(rb->entries[i].path, path))
                        return &rb->entries[i];
        return NULL;
}

void rollback_write_done(struct rollback *rb, const char *path)
{
        struct rollback_entry *e = (struct rollback_entry *) rollback_find(rb, path);

        if (e) {
                free(e->previous);
                e->previous = NULL;
        }
}

/* in_flight: the kernel write follows, so the old written value stays
 * vmtuned's (previous) until rollback_write_done(); else the kernel holds
 * written already. */
static int record(struct rollback *rb, const char *key, const char *path, const char *original,
                  const char *written, bool in_flight)
{
        struct rollback_entry *e = (struct rollback_entry *) rollback_find(rb, path);
        int r;

        if (!kfile_path_valid(path))
                return -EINVAL;
        /* What the journal would refuse to load, it does not write. */
        if (!kfile_path_managed(path)) {
                log_event(LOG_ERR, MSGID_ROLLBACK_REFUSED, NULL,
                          "%s: not recording %s: not a kernel tunable vmtuned manages", key, path);
                return -EPERM;
        }

        if (e) {
                /* Keep the first original: that is what the machine had
                 * before vmtuned touched it. What vmtuned wrote last stays
                 * vmtuned's until the kernel has the new value. */
                char *old_written = e->written, *old_previous = e->previous;

                e->written = xstrdup(written);
                e->previous = !in_flight || streq(old_written, written) ? NULL : xstrdup(old_written);
                e->waiting = false;     /* a plan wants it again */
                r = persist(rb, rb->entries, rb->n_entries);
                if (r < 0) {
                        free(e->written);
                        free(e->previous);
                        e->written = old_written;
                        e->previous = old_previous;
                        return r;
                }
                free(old_written);
                free(old_previous);
                return 0;
        }

        rb->entries = xreallocarray(rb->entries, rb->n_entries + 1, sizeof(*rb->entries));
        rb->entries[rb->n_entries] = (struct rollback_entry){
                .key = xstrdup(key),
                .path = xstrdup(path),
                .original = xstrdup(original),
                .written = xstrdup(written),
        };
        r = persist(rb, rb->entries, rb->n_entries + 1);
        if (r < 0) {
                entry_clear(&rb->entries[rb->n_entries]);
                return r;
        }
        rb->n_entries++;
        return 0;
}

int rollback_record(struct rollback *rb, const char *key, const char *path, const char *original,
                    const char *written)
{
        return record(rb, key, path, original, written, true);
}

int rollback_record_held(struct rollback *rb, const char *key, const char *path, const char *original,
                         const char *value)
{
        return record(rb, key, path, original, value, false);
}

int rollback_forget(struct rollback *rb, const char *path)
{
        _cleanup_free_ struct rollback_entry *rest = NULL;
        size_t i, n = 0;
        int r;

        for (i = 0; i < rb->n_entries; i++)
                if (streq(rb->entries[i].path, path))
                        break;
        if (i == rb->n_entries)
                return 0;

        /* Shallow copies: the strings stay owned by rb->entries. */
        rest = xcalloc(rb->n_entries, sizeof(*rest));
        for (size_t j = 0; j < rb->n_entries; j++)
                if (j != i)
                        rest[n++] = rb->entries[j];
        r = persist(rb, rest, n);
        if (r < 0)
                return r;
        entry_clear(&rb->entries[i]);
        memmove(&rb->entries[i], &rb->entries[i + 1], (rb->n_entries - i - 1) * sizeof(*rb->entries));
        rb->n_entries--;
        return 0;
}

/* --- restore ------------------------------------------------------------- */

static bool value_equal(const char *current, const char *value)
{
        _cleanup_free_ char *v = xstrdup(value);

        return streq(current, kfile_selected(kfile_normalize(v)));
}

/* KSM pages merged now (pages_sharing, else pages_shared); 0 when unknown. */
static uint64_t ksm_pages_merged(const struct kroot *root)
{
        uint64_t sharing = 0, shared = 0;

        (void) kfile_read_u64(root, "sys/kernel/mm/ksm/pages_sharing", &sharing);
        (void) kfile_read_u64(root, "sys/kernel/mm/ksm/pages_shared", &shared);
        return sharing > 0 ? sharing : shared;
}

enum restore_outcome {
        RESTORED,       /* back at (or already at) its original */
        LEFT,           /* someone else's now (drifted) or gone: forgotten */
        KEPT,           /* not restored now: stays in the journal for the next try */
};

static const char *const kept_note = "; kept in the journal, tried again at the next stop or start";

static enum restore_outcome restore_one(const struct rollback_entry *e, const struct kroot *root)
{
        const struct log_field *fields =
                LOG_FIELDS({ "VMTUNED_KEY", e->key }, { "VMTUNED_VALUE", e->original },
                           { "VMTUNED_ORIGINAL", e->original });
        char current[KFILE_VALUE_MAX];
        int r;

        r = kfile_read_value(root, e->path, current, sizeof(current));
        if (r == -ENOENT || r == -ENOTDIR) {
                /* The knob or the device is gone, and with it our value: a
                 * disk that comes back starts from the kernel's defaults. */
                log_event(LOG_WARNING, MSGID_SETTING_GONE, fields,
                          "%s: %s is no longer offered by this kernel; nothing to restore %s to", e->key,
                          e->path, e->original);
                return LEFT;
        }
        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_SETTING_NOT_RESTORED, fields,
                                       "%s: cannot read %s to restore %s: %m%s", e->key, e->path, e->original,
                                       kept_note);
                return KEPT;
        }
        if (value_equal(current, e->original)) {
                log_debug("%s: already %s, nothing to restore", e->key, current);
                return RESTORED;
        }
        /* previous: killed between journaling a rewrite and making it */
        if (!value_equal(current, e->written) && !(e->previous && value_equal(current, e->previous))) {
                log_event(LOG_WARNING, MSGID_SETTING_DRIFT, fields,
                          "%s was changed to %s by someone else since vmtuned set %s; "
                          "leaving it (original was %s)", e->key, current, e->written, e->original);
                return LEFT;
        }
        /* The kernel takes merge_across_nodes only with nothing merged, and
         * an unmerge (run=2) to put it back would break every shared page
         * of every guest: never here, not after a crash either. It waits in
         * the journal until nothing is merged (or the next boot); the KSM
         * module unmerges first only where [ksm] unmerge_for_numa = yes. */
        if (streq(e->path, "sys/kernel/mm/ksm/merge_across_nodes")) {
                uint64_t merged = ksm_pages_merged(root);

                if (merged > 0) {
                        log_event(LOG_WARNING, MSGID_SETTING_NOT_RESTORED, fields,
                                  "%s: leaving it at %s (original %s): %" PRIu64 " pages are merged, and the "
                                  "kernel changes it only with nothing merged; not unmerging them for it%s",
                                  e->key, current, e->original, merged, kept_note);
                        return KEPT;
                }
        }
        /* Giving huge pages back must not take the ones a running VM holds:
         * below them, the kernel would make them surplus pages, freed when
         * the VM stops and never reserved again for its restart. */
        if (hugepages_path_is_nr(e->path)) {
                _cleanup_free_ char *free_path = hugepages_free_path(e->path);
                long original, nr;
                uint64_t free_pages, in_use;

                if (parse_long(e->original, 0, LONG_MAX, &original) == 0 &&
                    parse_long(current, 0, LONG_MAX, &nr) == 0 && kfile_read_u64(root, free_path, &free_pages) == 0 &&
                    !hugepages_restore_allowed((uint64_t) original, (uint64_t) nr, free_pages, &in_use)) {
                        log_event(LOG_WARNING, MSGID_SETTING_NOT_RESTORED, fields,
                                  "%s: leaving it at %s (original %s): %" PRIu64 " huge pages are in use, by "
                                  "running VMs most likely%s", e->key, current, e->original, in_use, kept_note);
                        return KEPT;
                }
        }
        if (root->dry_run) {
                log_event(LOG_INFO, NULL, fields, "%s: would restore %s -> %s (dry run)",
                          e->key, current, e->original);
                return RESTORED;
        }
        r = kfile_write(root, e->path, e->original);
        if (r < 0) {
                (void) log_event_errno(LOG_WARNING, r, MSGID_SETTING_NOT_RESTORED, fields,
                                       "%s: cannot restore %s -> %s: %m%s", e->key, current, e->original,
                                       kept_note);
                return KEPT;
        }
        r = kfile_read_value(root, e->path, current, sizeof(current));
        if (r < 0 || !value_equal(current, e->original)) {
                log_event(LOG_WARNING, MSGID_SETTING_NOT_RESTORED, fields,
                          "%s: wrote %s back but the kernel reports %s%s", e->key, e->original,
                          r < 0 ? strerror(-r) : current, kept_note);
                return KEPT;
        }
        log_event(LOG_INFO, MSGID_SETTING_RESTORED, fields, "%s: %s -> %s (restored)",
                  e->key, e->written, e->original);
        return RESTORED;
}

/* rollback_restore_unwanted, and the retry's pass over the waiting
 * entries: a transition (plan_wants) clears the waiting mark of what the
 * next plan wants; the retry leaves the marks of what it skips. */
static int restore_where(struct rollback *rb, const struct kroot *root, rollback_wanted_fn wanted, void *userdata,
                         bool plan_wants)
{
        _cleanup_free_ bool *keep = xcalloc(rb->n_entries + 1, sizeof(*keep));
        _cleanup_free_ struct rollback_entry *kept = NULL;
        size_t n_kept = 0;
        int not_restored = 0, r;

        for (size_t i = rb->n_entries; i > 0; i--) {
                const struct rollback_entry *e = &rb->entries[i - 1];
                enum restore_outcome o;

                if (wanted && wanted(e->path, userdata)) {
                        keep[i - 1] = true;
                        if (plan_wants)
                                rb->entries[i - 1].waiting = false;
                        continue;
                }
                o = restore_one(e, root);
                keep[i - 1] = o == KEPT;
                rb->entries[i - 1].waiting = o == KEPT;
                not_restored += o != RESTORED;
        }

        /* A dry run changed nothing, so the journal still describes the machine. */
        if (root->dry_run)
                return not_restored;

        for (size_t i = 0; i < rb->n_entries; i++)
                n_kept += keep[i];
        if (n_kept > 0 && n_kept == rb->n_entries)
                return not_restored;    /* nothing restored or forgotten: the journal stands */

        /* Shallow copies: the strings stay owned by rb->entries until the
         * journal on disk says the same. */
        kept = xcalloc(n_kept + 1, sizeof(*kept));
        n_kept = 0;
        for (size_t i = 0; i < rb->n_entries; i++)
                if (keep[i])
                        kept[n_kept++] = rb->entries[i];
        if (n_kept > 0)
                r = persist(rb, kept, n_kept);
        else
                r = unlink(rb->file) < 0 && errno != ENOENT ? -errno : 0;
        if (r < 0)
                return r;       /* the old journal stands, and so does rb */

        for (size_t i = 0; i < rb->n_entries; i++)
                if (!keep[i])
                        entry_clear(&rb->entries[i]);
        if (n_kept > 0)
                memcpy(rb->entries, kept, n_kept * sizeof(*kept));
        rb->n_entries = n_kept;
        return not_restored;
}

int rollback_restore_unwanted(struct rollback *rb, const struct kroot *root, rollback_wanted_fn wanted,
                              void *userdata)
{
        return restore_where(rb, root, wanted, userdata, true);
}

int rollback_restore_all(struct rollback *rb, const struct kroot *root)
{
        return rollback_restore_unwanted(rb, root, NULL, NULL);
}

/* --- waiting entries ------------------------------------------------------ */

char *rollback_waiting_reason(const struct rollback_entry *e, const struct kroot *root, bool *ret_blocked)
{
        char current[KFILE_VALUE_MAX];

        *ret_blocked = true;
        if (hugepages_path_is_nr(e->path)) {
                _cleanup_free_ char *free_path = hugepages_free_path(e->path);
                long original, nr;
                uint64_t free_pages, in_use;

                if (kfile_read_value(root, e->path, current, sizeof(current)) == 0 &&
                    parse_long(e->original, 0, LONG_MAX, &original) == 0 &&
                    parse_long(current, 0, LONG_MAX, &nr) == 0 && kfile_read_u64(root, free_path, &free_pages) == 0) {
                        *ret_blocked = !hugepages_restore_allowed((uint64_t) original, (uint64_t) nr, free_pages,
                                                                   &in_use);
                        return hugepages_waiting_text(e->original, (uint64_t) nr, in_use);
                }
        } else if (streq(e->path, "sys/kernel/mm/ksm/merge_across_nodes")) {
                uint64_t merged = ksm_pages_merged(root);

                *ret_blocked = merged > 0;
                return xasprintf("waiting, %" PRIu64 " pages merged by KSM (original %s)", merged, e->original);
        }
        return xasprintf("waiting, not restored at the last try (original %s; see the log); tried again at the next "
                         "start", e->original);
}

bool rollback_has_waiting(const struct rollback *rb)
{
        for (size_t i = 0; i < rb->n_entries; i++)
                if (rb->entries[i].waiting)
                        return true;
        return false;
}

struct retry {
        const struct rollback *rb;
        const struct kroot *root;
        int n_retried;
};

/* Skipped by the retry: everything but a waiting entry nothing blocks
 * (counted in n_retried). restore_where() asks once per entry. */
static bool not_retried(const char *path, void *userdata)
{
        struct retry *t = userdata;
        const struct rollback_entry *e = rollback_find(t->rb, path);
        _cleanup_free_ char *why = NULL;
        bool blocked;

        if (!e || !e->waiting)
                return true;
        why = rollback_waiting_reason(e, t->root, &blocked);
        t->n_retried += !blocked;
        return blocked;
}

/* One pass: where every waiting entry is still blocked, restore_where()
 * keeps them all and writes nothing. */
int rollback_retry_waiting(struct rollback *rb, const struct kroot *root)
{
        struct retry t = { .rb = rb, .root = root };
        int r;

        if (!rollback_has_waiting(rb))
                return 0;
        r = restore_where(rb, root, not_retried, &t, false);
        return r < 0 ? r : t.n_retried;
}

void rollback_free(struct rollback *rb)
{
        if (!rb)
                return;
        rollback_entries_free(rb->entries, rb->n_entries);
        free(rb->file);
        free(rb->dir);
        if (rb->lock_fd >= 0)
                close(rb->lock_fd);
        free(rb);
}
