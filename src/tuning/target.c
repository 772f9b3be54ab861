/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The target list, and what a target's value means (include/tuning/target.h). */
#include "tuning/target.h"

#include <ctype.h>

#include "base/kfile.h"
#include "base/util.h"

void target_list_free(struct target_list *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].key);
                free(l->v[i].path);
                free(l->v[i].value);
                free(l->v[i].source);
                free(l->v[i].source_file);
        }
        free(l->v);
        for (size_t i = 0; i < l->n_notes; i++) {
                free(l->notes[i].key);
                free(l->notes[i].text);
        }
        free(l->notes);
        *l = (struct target_list){};
}

/* A whole decimal number, possibly negative, beyond long's range too
 * (some sysctls are unsigned 64-bit). */
struct number {
        bool negative;
        unsigned long long magnitude;
};

static int number_parse(const char *s, struct number *ret)
{
        struct number n = {};
        char *end;

        if (*s == '-') {
                n.negative = true;
                s++;
        }
        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        n.magnitude = strtoull(s, &end, 10);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE)
                return -ERANGE;
        if (n.magnitude == 0)
                n.negative = false;
        *ret = n;
        return 0;
}

static int number_cmp(struct number a, struct number b)
{
        if (a.negative != b.negative)
                return a.negative ? -1 : 1;
        if (a.magnitude == b.magnitude)
                return 0;
        return (a.magnitude < b.magnitude) != a.negative ? -1 : 1;
}

int target_value_parse(const char *raw, char **ret_value, bool *ret_only_if_greater)
{
        _cleanup_free_ char *v = xstrdup(raw);
        bool greater = false;
        struct number n;

        kfile_normalize(v);
        if (v[0] == '>') {
                greater = true;
                memmove(v, v + 1, strlen(v));
                kfile_normalize(v);
                if (number_parse(v, &n) < 0)
                        return -EINVAL;
        }
        *ret_value = TAKE_PTR(v);
        *ret_only_if_greater = greater;
        return 0;
}

int target_value_satisfied(const char *current, const char *desired, bool only_if_greater)
{
        struct number have, want;

        if (!only_if_greater)
                return streq(current, desired);
        if (number_parse(current, &have) < 0 || number_parse(desired, &want) < 0)
                return -EINVAL;
        return number_cmp(have, want) >= 0;
}
