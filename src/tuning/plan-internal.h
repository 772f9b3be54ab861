/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the planners of src/tuning/plan*.c: plan.c ([sysctl], [vm],
 * [ksm], [disk]), plan-cpu.c ([cpu]) and plan-hugepages.c ([hugepages]). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/util.h"
#include "tuning/target.h"

struct kroot;
struct profile;
struct setting;

/* Add a target; key and path are taken over, value is copied. */
void plan_target_add(struct target_list *l, char *key, char *path, const char *value, const struct setting *s,
                     bool only_if_greater, bool selector);
/* Add a note (a warning the applying caller logs); key may be NULL. */
_printf_(3, 4) void plan_note_add(struct target_list *l, const char *key, const char *fmt, ...);
/* Split on separators and white space, dropping empty items. */
char **plan_split(const char *s, const char *separators, size_t *ret_n);
void plan_strv_free(char **v, size_t n);
/* The numbers N of the entries "PREFIXN" of dir, sorted; 0 entries when
 * dir is missing (-ENOENT returned then). */
int plan_list_numbered(const struct kroot *root, const char *dir, const char *prefix, long **ret, size_t *ret_n);

/* [cpu] (plan-cpu.c) and [hugepages] (plan-hugepages.c). */
/* only: every CPU (-1), or the one CPU cpuN (settings_plan_cpu). */
void plan_cpu(const struct kroot *root, const struct profile *p, long only, struct target_list *l);
void plan_hugepages(const struct kroot *root, const struct profile *p, struct target_list *l);
