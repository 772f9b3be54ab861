/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Planning, the first half of the settings engine (src/tuning/plan.c): a
 * resolved profile becomes the targets of this host, the concrete kernel
 * writes that apply.h carries out and verify compares. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "tuning/target.h"

struct kroot;
struct profile;

/* Log the plan's notes as warnings (MSGID_SETTING_ABSENT). */
void settings_log_notes(const struct target_list *l);

/* The tuning plan of a profile on this host: what apply writes, and what
 * verify, status and --check-config compare with or show. Every caller
 * takes its plan from here, so that they all see the same targets.
 *
 * [sysctl] keys become proc/sys paths, [vm] and [ksm] keys go through
 * profile_keys[], [cpu] keys reach every cpufreq policy or CPU and
 * force_latency the idle states' disable files (plan-cpu.c), [hugepages]
 * the host's or every node's pool (plan-hugepages.c), [disk] rules reach every matching whole disk under
 * sys/block (partitions skipped; loop, zram and ram only when matched by a
 * glob that names them explicitly; paths of a request-based device-mapper
 * device such as dm-multipath skipped: the dm device schedules their I/O).
 * Reads only sys/block (to list disks, their holders and schedulers). A
 * scheduler list none of whose entries a device offers yields no target
 * and a note. [ksm] keys without a kernel file (mode=, ...) are the KSM
 * module's options, and the knobs the module writes itself in the
 * profile's mode are left out (ksm_filter_plan): in mode=auto it decides
 * run=, so run= is not the plan's to apply or to verify. */
int settings_plan(const struct kroot *root, const struct profile *p, struct target_list *ret);

/* settings_plan before the KSM module takes its knobs: every setting as
 * the profile writes it. Only for settings_plan and the test of
 * ksm_filter_plan; nothing applies or verifies this list. */
int settings_plan_as_written(const struct kroot *root, const struct profile *p, struct target_list *ret);

/* The [cpu] targets of settings_plan for one CPU, by its sysfs name
 * ("cpu3": a CPU that came online later, hot-plug): its cpufreq policy,
 * its energy_perf_bias, its idle states; no note for what it lacks. -EINVAL:
 * not a cpuN name; -ENOENT: no such CPU. */
int settings_plan_cpu(const struct kroot *root, const struct profile *p, const char *cpu, struct target_list *ret);

/* The [disk] targets of settings_plan for one device, by its sys/block
 * name (a disk that appeared later: hot-plug). An empty list when the
 * profile's rules do not reach it. -ENOENT: no such whole disk (gone
 * already, or a partition); -EINVAL: not a sys/block name. */
int settings_plan_device(const struct kroot *root, const struct profile *p, const char *dev,
                         struct target_list *ret);

/* Does a device name match a devices= list ("sd*,vd*,!sda")? Pure. */
bool settings_device_matches(const char *const *globs, size_t n_globs, const char *dev);
