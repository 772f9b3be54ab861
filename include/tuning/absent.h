/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planned keys the running kernel does not offer (src/tuning/absent.c):
 * "not on this kernel", with a did-you-mean for a misspelt sysctl. What
 * `vmtuned --check-config` warns about (an error with --strict) and what
 * `vmtunectl verify` reports and fails on. Reads only the target's file
 * and, for a sysctl, the directory it would be in, under the root prefix. */
#pragma once

#include <stdbool.h>

struct kroot;
struct target;

/* Is t's kernel file missing (-ENOENT, -ENOTDIR)? A file that is there
 * but cannot be read is not: the kernel offers it. */
bool target_absent(const struct kroot *root, const struct target *t);

/* For a [sysctl] target: the existing sysctl of the directory its file
 * would be in (proc/sys/vm for vm.*) nearest to its key (suggest_nearest,
 * base/suggest.h), as a key ("vm.swappiness"), malloc'd; NULL if none is
 * near, the directory is missing, or t is not a sysctl. */
char *target_suggest(const struct kroot *root, const struct target *t);

/* "FILE:LINE: [section] key: not on this kernel[; did you mean KEY?]"
 * (no "FILE:LINE: " for a setting derived from an option), malloc'd. */
char *target_absent_message(const struct target *t, const char *suggestion);
