/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A planned kernel write (struct target) and the list planning fills, the
 * types shared by planning (plan.h), applying (apply.h), verify and the KSM
 * module; and what a target's value means: tuned's ">N", and whether a
 * value the kernel holds meets it (src/tuning/target.c, pure). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* One concrete write: a kernel file and the value the profile wants in it. */
struct target {
        char *key;       /* "sysctl vm.swappiness", "vm transparent_hugepages", "disk vda scheduler" */
        char *path;      /* relative to the root prefix: "proc/sys/vm/swappiness" */
        char *value;     /* desired value; for a scheduler fallback list, the first the device offers */
        char *source;    /* "FILE:LINE" of the winning definition */
        char *source_file; /* the same, apart (for --json); NULL: vmtuned's own */
        unsigned source_line; /* 0: derived from an option of source_file */
        bool only_if_greater; /* tuned's ">N": write only when the current value is smaller */
        bool selector;   /* a "[selected]" file (THP, scheduler) */
};

/* Why a setting of the profile is not in the plan (unknown key, no such
 * scheduler offered, ...). Planning only collects them: the caller that
 * applies logs them (settings_log_notes, plan.h), a re-plan for `vmtunectl
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

void target_list_free(struct target_list *l);

/* Pure: a profile value as a target holds it: normalized (white space
 * folded); tuned's ">N" gives "N" with *ret_only_if_greater set.
 * -EINVAL: ">" before something that is not a whole number. */
int target_value_parse(const char *raw, char **ret_value, bool *ret_only_if_greater);

/* Pure: does current (normalized) meet desired? Equal, or for tuned's ">N"
 * (only_if_greater) at least N: 1 or 0; -EINVAL when ">N" meets a value that
 * is not a whole number. Shared by apply and verify so they agree. */
int target_value_satisfied(const char *current, const char *desired, bool only_if_greater);
