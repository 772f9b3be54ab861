/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sets of CPUs or NUMA nodes and the kernel's list form of them
 * (src/base/bitmap.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A set of small non-negative numbers. Grows on bitmap_set; a zeroed
 * struct is the empty set. */
struct bitmap {
        uint64_t *words;
        size_t n_words;
};

/* The kernel's cpulists never name a CPU this high; anything above is
 * garbage, not a reason to allocate. */
#define BITMAP_MAX_BIT 65535u

void bitmap_done(struct bitmap *b);
void bitmap_set(struct bitmap *b, unsigned bit);
bool bitmap_test(const struct bitmap *b, unsigned bit);
/* dst |= src */
void bitmap_or(struct bitmap *dst, const struct bitmap *src);
bool bitmap_intersects(const struct bitmap *a, const struct bitmap *b);
bool bitmap_equal(const struct bitmap *a, const struct bitmap *b);
unsigned bitmap_count(const struct bitmap *b);
/* The highest member + 1, 0 for the empty set: the bound for loops. */
unsigned bitmap_size(const struct bitmap *b);

/* "0-3,8,10-11" (a kernel cpulist or nodelist; white space around it is
 * ignored, "" is the empty set). -EINVAL on anything else, -ERANGE above
 * BITMAP_MAX_BIT. */
int bitmap_parse_list(const char *s, struct bitmap *ret);
/* The inverse, in the kernel's shortest form: "0-3,8,10-11"; "" if empty. */
char *bitmap_format_list(const struct bitmap *b);
