/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "Did you mean ...?" for a name that does not exist (src/base/suggest.c,
 * pure): the nearest of a list of names that do, by edit distance. */
#pragma once

#include <stddef.h>

/* The most edits a suggestion may be away. */
#define SUGGEST_MAX_EDITS 2

/* Damerau-Levenshtein distance in its optimal string alignment form: the
 * fewest insertions, deletions, substitutions and swaps of two adjacent
 * bytes that turn a into b, no substring edited twice ("swapiness" ->
 * "swappiness" 1, "swapinsess" -> "swappiness" 2). Counting stops past
 * max: any larger distance is returned as max + 1. */
size_t suggest_distance(const char *a, const char *b, size_t max);

/* The candidate nearest to word, at most SUGGEST_MAX_EDITS away and fewer
 * edits than the length of word's last '.'-separated component (so that
 * "vm.x" never suggests "vm.y"); of equally near ones the first in
 * strcmp order. NULL if none is near enough, or word is one of them. */
const char *suggest_nearest(const char *word, const char *const *candidates, size_t n);
