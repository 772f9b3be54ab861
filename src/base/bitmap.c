/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sets of CPUs or NUMA nodes, and the kernel's list form of them
 * ("0-3,8,10-11"). Pure. */
#include "base/bitmap.h"

#include <ctype.h>
#include <stdio.h>

#include "base/util.h"

void bitmap_done(struct bitmap *b)
{
        free(b->words);
        *b = (struct bitmap){ 0 };
}

void bitmap_set(struct bitmap *b, unsigned bit)
{
        size_t word = bit / 64;

        if (word >= b->n_words) {
                b->words = xreallocarray(b->words, word + 1, sizeof(uint64_t));
                memset(b->words + b->n_words, 0, (word + 1 - b->n_words) * sizeof(uint64_t));
                b->n_words = word + 1;
        }
        b->words[word] |= UINT64_C(1) << (bit % 64);
}

bool bitmap_test(const struct bitmap *b, unsigned bit)
{
        size_t word = bit / 64;

        return word < b->n_words && (b->words[word] & (UINT64_C(1) << (bit % 64)));
}

void bitmap_or(struct bitmap *dst, const struct bitmap *src)
{
        for (unsigned bit = 0; bit < bitmap_size(src); bit++)
                if (bitmap_test(src, bit))
                        bitmap_set(dst, bit);
}

bool bitmap_intersects(const struct bitmap *a, const struct bitmap *b)
{
        size_t n = a->n_words < b->n_words ? a->n_words : b->n_words;

        for (size_t i = 0; i < n; i++)
                if (a->words[i] & b->words[i])
                        return true;
        return false;
}

bool bitmap_equal(const struct bitmap *a, const struct bitmap *b)
{
        size_t n = a->n_words > b->n_words ? a->n_words : b->n_words;

        /* Sizes may differ by trailing zero words. */
        for (size_t i = 0; i < n; i++) {
                uint64_t wa = i < a->n_words ? a->words[i] : 0;
                uint64_t wb = i < b->n_words ? b->words[i] : 0;

                if (wa != wb)
                        return false;
        }
        return true;
}

unsigned bitmap_count(const struct bitmap *b)
{
        unsigned n = 0;

        for (size_t i = 0; i < b->n_words; i++)
                n += (unsigned) __builtin_popcountll(b->words[i]);
        return n;
}

unsigned bitmap_size(const struct bitmap *b)
{
        for (size_t i = b->n_words; i > 0; i--)
                if (b->words[i - 1])
                        return (unsigned) ((i - 1) * 64 + 64 - (size_t) __builtin_clzll(b->words[i - 1]));
        return 0;
}

/* A member number at *p, advancing *p past it. */
static int parse_bit(const char **p, unsigned *ret)
{
        unsigned long v;
        char *end;

        if (!isdigit((unsigned char) **p))
                return -EINVAL;
        errno = 0;
        v = strtoul(*p, &end, 10);
        if (errno == ERANGE || v > BITMAP_MAX_BIT)
                return -ERANGE;
        *p = end;
        *ret = (unsigned) v;
        return 0;
}

int bitmap_parse_list(const char *s, struct bitmap *ret)
{
        _cleanup_(bitmap_done) struct bitmap b = { 0 };
        const char *p = s + strspn(s, " \t\n");
        int r;

        while (*p && !isspace((unsigned char) *p)) {
                unsigned lo, hi;

                r = parse_bit(&p, &lo);
                if (r < 0)
                        return r;
                hi = lo;
                if (*p == '-') {
                        p++;
                        r = parse_bit(&p, &hi);
                        if (r < 0)
                                return r;
                        if (hi < lo)
                                return -EINVAL;
                }
                for (unsigned bit = lo; bit <= hi; bit++)
                        bitmap_set(&b, bit);
                if (*p == ',') {
                        p++;
                        if (!isdigit((unsigned char) *p))
                                return -EINVAL;
                } else if (*p && !isspace((unsigned char) *p))
                        return -EINVAL;
        }
        if (p[strspn(p, " \t\n")] != '\0')
                return -EINVAL;
        *ret = b;
        b = (struct bitmap){ 0 };
        return 0;
}

char *bitmap_format_list(const struct bitmap *b)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        unsigned n = bitmap_size(b);
        const char *sep = "";

        if (!f)
                abort();
        for (unsigned bit = 0; bit < n; bit++) {
                unsigned end = bit;

                if (!bitmap_test(b, bit))
                        continue;
                while (end + 1 < n && bitmap_test(b, end + 1))
                        end++;
                if (end == bit)
                        fprintf(f, "%s%u", sep, bit);
                else
                        fprintf(f, "%s%u-%u", sep, bit, end);
                sep = ",";
                bit = end;
        }
        if (fclose(f) != 0)
                abort();
        return buf;
}
