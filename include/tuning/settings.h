/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The settings engine: turns a resolved profile into concrete kernel
 * writes (targets), applies them with the rollback journal, and verifies. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct kroot;
struct profile;
struct rollback;

/* One concrete write: a kernel file and the value the profile wants in it. */
struct target {
        char *key;       /* "sysctl vm.swappiness", "vm transparent_hugepages", "disk vda scheduler" */
        char *path;      /* relative to the root prefix: "proc/sys/vm/swappiness" */
        char *value;     /* desired value; for a scheduler fallback list, the first the device offers */
        char *source;    /* "FILE:LINE" of the winning definition */
        bool only_if_greater; /* tuned's ">N": write only when the current value is smaller */
        bool selector;   /* a "[selected]" file (THP, scheduler) */
};

/* Why a setting of the profile is not in the plan (unknown key, no such
 * scheduler offered, ...). Planning only collects them: the caller that
 * applies logs them (settings_log_notes), a re-plan for `vmtunectl
 * status` or `verify` does not log the same warning again. */
struct plan_note {
        char *key;                 /* the setting ("disk sda scheduler"), or NULL */
        char *text;
};

struct target_list {
        struct target *v;
        size_t n;
        struct plan_note *notes;
        size_t n_notes;
};

/* Log the plan's notes as warnings (MSGID_SETTING_SKIPPED with a key). */
void settings_log_notes(const struct target_list *l);

/* Expand a profile into targets: [sysctl] keys to proc/sys paths, [vm] and
 * [ksm] keys through profile_keys[], [disk] rules to every matching whole
 * disk under sys/block (partitions skipped; loop, zram and ram only when
 * matched by a glob that names them explicitly; paths of a request-based
 * device-mapper device such as dm-multipath skipped: the dm device
 * schedules their I/O). Reads only sys/block (to list disks, their
 * holders and schedulers). A scheduler list none of whose entries a
 * device offers yields no target and a warning. [ksm] keys without a
 * kernel file (mode=, ...) are the KSM module's, not targets. */
int settings_plan(const struct kroot *root, const struct profile *p, struct target_list *ret);

/* The [disk] targets of settings_plan for one device, by its sys/block
 * name (a disk that appeared later: hot-plug). An empty list when the
 * profile's rules do not reach it. -ENOENT: no such whole disk (gone
 * already, or a partition); -EINVAL: not a sys/block name. */
int settings_plan_device(const struct kroot *root, const struct profile *p, const char *dev,
                         struct target_list *ret);

/* Counts of what apply did, for status and the log. */
struct apply_stats {
        unsigned applied;   /* written and verified */
        unsigned unchanged; /* already at the desired value */
        unsigned skipped;   /* knob missing, value refused by the kernel */
};

/* Apply every target: read current (missing knob: warning, skip); if it
 * already has the desired value, nothing; else record (original, desired) in
 * the journal, write, read back and verify. A refused write is forgotten
 * from the journal, logged, and skipped; the rest of the profile still applies.
 * A value the kernel adjusted on write counts as skipped; its journal entry
 * stays (with the value the kernel holds) so the original is restored.
 * Returns 0, or -errno when the journal could not be written: that is
 * logged here, and the caller must stop applying. With root->dry_run it
 * logs "would set" lines, records and writes nothing, and counts the
 * would-be changes as applied. */
int settings_apply(const struct kroot *root, struct rollback *rb,
                   const struct target_list *targets, struct apply_stats *ret_stats);

void target_list_free(struct target_list *l);

/* Pure: does current (normalized) meet desired? Equal, or for tuned's ">N"
 * (only_if_greater) at least N: 1 or 0; -EINVAL when ">N" meets a value that
 * is not a whole number. Shared by apply and verify so they agree. */
int settings_value_satisfied(const char *current, const char *desired, bool only_if_greater);

/* Does a device name match a devices= list ("sd*,vd*,!sda")? Pure. */
bool settings_device_matches(const char *const *globs, size_t n_globs, const char *dev);
