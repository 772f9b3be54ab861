/* SPDX-License-Identifier: GPL-2.0-or-later */
/* "Did you mean ...?" (include/base/suggest.h). Pure. */
#include <stdint.h>
#include <string.h>

#include "base/suggest.h"
#include "base/util.h"

static size_t min3(size_t a, size_t b, size_t c)
{
        size_t m = a < b ? a : b;

        return m < c ? m : c;
}

size_t suggest_distance(const char *a, const char *b, size_t max)
{
        size_t la = strlen(a), lb = strlen(b);
        _cleanup_free_ size_t *table = NULL;
        size_t *prev2, *prev, *cur;

        /* Every edit changes the length by at most one. */
        if ((la > lb ? la - lb : lb - la) > max)
                return max + 1;
        /* Three rows of the table: the swap looks two rows back. */
        prev2 = table = xcalloc(3 * (lb + 1), sizeof(size_t));
        prev = prev2 + lb + 1;
        cur = prev + lb + 1;
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t row_min;
                size_t *t;

                cur[0] = row_min = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] != b[j - 1];

                        cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            prev2[j - 2] + 1 < cur[j])
                                cur[j] = prev2[j - 2] + 1;
                        if (cur[j] < row_min)
                                row_min = cur[j];
                }
                /* No row gets cheaper than the one before. */
                if (row_min > max)
                        return max + 1;
                t = prev2;
                prev2 = prev;
                prev = cur;
                cur = t;
        }
        return prev[lb] > max ? max + 1 : prev[lb];
}

const char *suggest_nearest(const char *word, const char *const *candidates, size_t n)
{
        const char *last = strrchr(word, '.'), *best = NULL;
        size_t last_len = strlen(last ? last + 1 : word), best_distance = SIZE_MAX;
        size_t max_edits = last_len > SUGGEST_MAX_EDITS ? SUGGEST_MAX_EDITS : last_len ? last_len - 1 : 0;

        for (size_t i = 0; i < n; i++) {
                size_t d = suggest_distance(word, candidates[i], max_edits);

                if (d == 0)
                        return NULL;
                if (d > max_edits || d > best_distance)
                        continue;
                if (d < best_distance || strcmp(candidates[i], best) < 0) {
                        best = candidates[i];
                        best_distance = d;
                }
        }
        return best;
}
