/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rollback journal: every original value, recorded durably before the
 * write it protects, so a stop, a profile switch or the next start after a
 * crash puts the machine back as it was. Lives in the runtime directory
 * (/run/vmtuned/rollback): the kernel forgets these values at reboot, and so
 * should we. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct kroot;

struct rollback_entry {
        char *key;      /* what the user calls it: "sysctl vm.swappiness", "disk vda scheduler" */
        char *path;     /* relative to the root prefix */
        char *original; /* value read before the first write */
        char *written;  /* value vmtuned wrote */
        /* While a rewrite is in flight: the value vmtuned wrote before it,
         * which the kernel still holds until the write goes through (a
         * fifth field, only then). A daemon killed between journaling the
         * new value and writing it leaves the kernel at this one: still
         * vmtuned's, so its original is restored, not lost. NULL otherwise;
         * rollback_write_done() drops it once the kernel has the new one. */
        char *previous;
        /* Not in the file: a restore kept the entry (KEPT: huge pages in
         * use, pages merged, a failed write) and no plan wants it, so it
         * waits to be restored (rollback_waiting_reason). */
        bool waiting;
};

struct rollback {
        char *file;     /* RUNTIME_DIR/rollback */
        char *dir;      /* RUNTIME_DIR, fsync'd after each rename */
        struct rollback_entry *entries;
        size_t n_entries;
        int lock_fd;    /* RUNTIME_DIR/lock, flock'd: one vmtuned per journal */
};

/* Open the journal in runtime_dir (created 0755 if missing; the journal file is 0600). If a journal
 * is already there, the previous run died: it is loaded into entries and
 * *ret_found_stale is set, so the caller restores before applying.
 * Logs its own errors (only it knows the corrupt journal's line number),
 * so callers just stop: -EBADMSG for a corrupt journal, which is never
 * dropped or guessed at. The journal is believed only if it can be ours
 * alone: refused (and left where it is) unless every record names a file in
 * the kernel trees vmtuned manages (kfile_path_managed(), -EBADMSG), unless
 * it is a regular file (not a symlink, -ELOOP; not a FIFO or anything else,
 * -EBADMSG) owned by the euid without group/other write (-EPERM), and
 * unless runtime_dir is such a directory and not a symlink (-EPERM, -ELOOP,
 * -ENOTDIR). Each refusal logs why, and touches nothing. */
int rollback_open(const char *runtime_dir, struct rollback **ret, bool *ret_found_stale);
/* rollback_open() first takes an exclusive flock on RUNTIME_DIR/lock, held
 * until rollback_free(): a second vmtuned on the same runtime directory
 * would take the first one's live journal for a crash leftover and restore
 * its values. It gets -EBUSY instead ("another vmtuned (pid N) is
 * running ..."), before it reads or writes anything else. */

/* The entry for a path, or NULL. */
const struct rollback_entry *rollback_find(const struct rollback *rb, const char *path);

/* Record (key, path, original, written) durably: write the whole journal to
 * a temporary file (RUNTIME_DIR/rollback.tmp, unlinked first and created
 * anew with O_EXCL, so nothing planted there is written through), fsync,
 * rename over the journal, fsync the directory.
 * A path already recorded keeps its first original and gets the new written
 * value, the old one kept as previous until rollback_write_done(). -EPERM (logged) for a path that is not a kernel tunable vmtuned
 * manages (kfile_path_managed()): the journal would refuse it at load. */
int rollback_record(struct rollback *rb, const char *key, const char *path,
                    const char *original, const char *written);

/* The same for a value the kernel holds already (adjusted by it, a write
 * that failed, or one a killed run journaled and wrote): no previous. */
int rollback_record_held(struct rollback *rb, const char *key, const char *path, const char *original,
                         const char *value);

/* The kernel holds path's new written value: previous is dropped from
 * memory, and from the file at its next write (no write of its own: a
 * switch journals each changed key once, as before). */
void rollback_write_done(struct rollback *rb, const char *path);

/* Forget a path (after a failed write left the original in place). */
int rollback_forget(struct rollback *rb, const char *path);

/* Restore in reverse order. For each entry: if the current value is the
 * one vmtuned wrote, write the original back and verify it; if it is
 * already the original, nothing to do; if another actor changed it, or
 * its file is gone (a knob this kernel no longer offers, a disk that went
 * away), it is someone else's now: leave it, log that and forget it.
 * An entry that cannot be put back now (the file cannot be read, the
 * write fails or reads back wrong, merge_across_nodes while pages are
 * merged) stays in the journal, so the next stop or start tries again:
 * nothing leaves the journal until its value is restored or is
 * verifiably not ours. The journal is removed when it is empty.
 * Returns the number of values not restored (left or kept), or -errno
 * if the journal could not be rewritten or removed. With root->dry_run it
 * only logs what it would do and keeps the journal and rb as they are. */
int rollback_restore_all(struct rollback *rb, const struct kroot *root);

/* Which journal paths the next plan still wants (it will write them, or
 * find them already right): their entries are kept, untouched. */
typedef bool (*rollback_wanted_fn)(const char *path, void *userdata);

/* The reconciling half of a transition (reload, profile switch, restart
 * after a crash): restore only the entries wanted() rejects, exactly as
 * rollback_restore_all does, and keep the rest with their first
 * originals, so a value both plans set is never restored just to be
 * applied again. No journal write when nothing was restored. */
int rollback_restore_unwanted(struct rollback *rb, const struct kroot *root, rollback_wanted_fn wanted,
                              void *userdata);

/* A waiting entry (e->waiting): why it is not back yet, as the kernel
 * shows it now, e.g. "waiting, 12 of 16 pages in use by running VMs
 * (original 0)" (malloc'd). *ret_blocked: what kept it still holds (pages
 * in use, pages merged), or it is not known what would free it (a failed
 * write: tried again at the next start); false once the pages are free. */
char *rollback_waiting_reason(const struct rollback_entry *e, const struct kroot *root, bool *ret_blocked);

/* Is any entry waiting? */
bool rollback_has_waiting(const struct rollback *rb);

/* Restore the waiting entries nothing blocks any more
 * (rollback_waiting_reason), as rollback_restore_unwanted does; the rest
 * stays as it is. For the daemon's retry while it runs, so that huge pages
 * come back once the VMs that held them stop, not only at the next start.
 * Returns the number of entries it tried (0: nothing to do, nothing logged
 * or written), or -errno if the journal could not be rewritten. */
int rollback_retry_waiting(struct rollback *rb, const struct kroot *root);

void rollback_free(struct rollback *rb);

/* Pure: (de)serialise the journal. One entry per line, four tab-separated
 * fields, with \t, \n and \\ escaped. */
char *rollback_format(const struct rollback_entry *entries, size_t n);
int rollback_parse(const char *text, struct rollback_entry **ret, size_t *ret_n);
/* The same, and on -EBADMSG the number of the line at fault in *ret_bad_line. */
int rollback_parse_at(const char *text, struct rollback_entry **ret, size_t *ret_n,
                      unsigned *ret_bad_line);
void rollback_entries_free(struct rollback_entry *entries, size_t n);
