/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Applying, the second half of the settings engine (src/tuning/apply.c):
 * each target written with its original in the rollback journal first. */
#pragma once

#include "tuning/target.h"

struct kroot;
struct rollback;

/* Counts of what apply did, for status and the log. */
struct apply_stats {
        unsigned applied;   /* written and verified */
        unsigned unchanged; /* already at the desired value */
        unsigned skipped;   /* knob missing, value refused by the kernel */
};

/* Apply every target (from settings_plan, or the KSM module's and
 * hot-plug's own): read current (missing knob: warning, skip); if it
 * already has the desired value, nothing; else record (original, desired) in
 * the journal, write, read back and verify. A refused write is forgotten
 * from the journal, logged, and skipped; the rest of the profile still applies.
 * A value the kernel adjusted on write counts as skipped; its journal entry
 * stays (with the value the kernel holds) so the original is restored.
 * Returns 0, or -errno when the journal could not be written, without
 * logging it: the caller stops applying, and logs it once with what it
 * does about it (roll back, pause). With root->dry_run it logs "would
 * set" lines, records and writes nothing, and counts the would-be changes
 * as applied. */
int settings_apply(const struct kroot *root, struct rollback *rb,
                   const struct target_list *targets, struct apply_stats *ret_stats);
