/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Values read from kernel files (src/base/kfile.c, the comparisons of
 * src/tuning/settings.c and verify.c): white space folded, a selector
 * file ("always [madvise] never") reduced to its choice, a value compared
 * with what the profile wants, ">N" as numbers of any size. The input is
 * "current\ndesired" (no newline: both the same). */
#include <errno.h>

#include "base/kfile.h"
#include "tuning/target.h"
#include "tuning/verify.h"
#include "fuzz.h"

static bool is_space(char c)
{
        return c == ' ' || (c >= '\t' && c <= '\r');
}

static void check_normalize(const char *raw)
{
        char *a = xstrdup(raw), *b, *open, *close;
        size_t len;

        kfile_normalize(a);
        len = strlen(a);
        FUZZ_CHECK(len <= strlen(raw));
        FUZZ_CHECK(len == 0 || (!is_space(a[0]) && !is_space(a[len - 1])));
        for (size_t i = 0; i < len; i++)
                FUZZ_CHECK(a[i] == ' ' ? !is_space(a[i + 1]) : !is_space(a[i]));
        b = xstrdup(a);
        FUZZ_CHECK(strcmp(kfile_normalize(b), a) == 0);

        /* A choice in brackets of its own is one the line offers. */
        kfile_selected(b);
        FUZZ_CHECK(strlen(b) <= len);
        open = strchr(a, '[');
        close = open ? strchr(open + 1, ']') : NULL;
        if (close && (open == a || open[-1] == ' ') && (close[1] == ' ' || !close[1]) && *b && !strchr(b, ' '))
                FUZZ_CHECK(kfile_selector_offers(a, b));
        free(a);
        free(b);
}

static void check_path(const char *p)
{
        bool valid = kfile_path_valid(p);

        if (!valid)
                return;
        FUZZ_CHECK(*p && *p != '/');
        for (const char *c = p; *c;) {
                size_t n = strcspn(c, "/");

                FUZZ_CHECK(n > 0 && !(n == 1 && c[0] == '.') && !(n == 2 && c[0] == '.' && c[1] == '.'));
                c += n;
                if (*c == '/')
                        FUZZ_CHECK(*++c);
        }
}

static void check_compare(const char *current, const char *desired)
{
        int eq = target_value_satisfied(current, desired, false);
        int ge = target_value_satisfied(current, desired, true);
        int le = target_value_satisfied(desired, current, true);
        enum verify_state st;

        FUZZ_CHECK(eq == (strcmp(current, desired) == 0));
        FUZZ_CHECK(ge == 0 || ge == 1 || ge == -EINVAL);
        FUZZ_CHECK((ge < 0) == (le < 0));
        if (ge >= 0) {
                FUZZ_CHECK(ge == 1 || le == 1);           /* numbers are ordered */
                FUZZ_CHECK(target_value_satisfied(current, current, true) == 1);
                if (eq)
                        FUZZ_CHECK(ge == 1 && le == 1);
        }
        st = verify_compare(desired, false, current, NULL);
        FUZZ_CHECK(st == (eq ? VERIFY_OK : VERIFY_DRIFT));
        st = verify_compare(desired, true, current, current);
        FUZZ_CHECK(st == (ge == 1 ? VERIFY_OK : VERIFY_ADJUSTED));
        FUZZ_CHECK(verify_compare(desired, true, NULL, current) == VERIFY_SKIPPED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size), *desired = strchr(text, '\n');

        check_normalize(text);
        if (desired)
                *desired++ = '\0';
        else
                desired = text;
        check_path(text);
        check_compare(text, desired);
        free(text);
        return 0;
}
