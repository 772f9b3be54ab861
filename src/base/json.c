/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/json.h"

#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at p (RFC 3629, section 4),
 * or, if there is none, of its maximal invalid subpart: the longest prefix
 * that could still have begun one (at least 1, never past the NUL). */
static size_t utf8_sequence(const unsigned char *p, bool *ret_valid)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        *ret_valid = false;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                n = 3;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                n = 4;
        else
                return 1;    /* a continuation byte alone, C0, C1 (overlong) or F5..FF */
        /* The second byte's range excludes overlongs, surrogates and code
         * points above U+10FFFF. */
        if (p[0] == 0xe0)
                lo = 0xa0;
        else if (p[0] == 0xed)
                hi = 0x9f;
        else if (p[0] == 0xf0)
                lo = 0x90;
        else if (p[0] == 0xf4)
                hi = 0x8f;
        if (p[1] < lo || p[1] > hi)
                return 1;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return i;
        *ret_valid = true;
        return n;
}

void json_print_string(FILE *out, const char *s)
{
        const unsigned char *p = (const unsigned char *) s;

        if (!s) {
                fputs("null", out);
                return;
        }
        fputc('"', out);
        while (*p) {
                size_t n;
                bool valid;

                if (*p == '"' || *p == '\\') {
                        fprintf(out, "\\%c", *p++);
                        continue;
                }
                if (*p < 0x20 || *p == 0x7f) {
                        fprintf(out, "\\u%04x", *p++);
                        continue;
                }
                if (*p < 0x80) {
                        fputc(*p++, out);
                        continue;
                }
                n = utf8_sequence(p, &valid);
                if (valid)
                        fwrite(p, 1, n, out);
                else
                        fputs("\\ufffd", out);
                p += n;
        }
        fputc('"', out);
}
