/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text the configuration accepts (include/base/utf8.h). Pure. */
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"

/* The length of the well-formed UTF-8 sequence at p (RFC 3629, section 4),
 * or, if there is none, of its maximal invalid subpart: the longest prefix
 * that could still have begun one (at least 1, never past the NUL). */
size_t utf8_sequence(const unsigned char *p, bool *ret_valid)
{
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        *ret_valid = p[0] < 0x80;
        if (p[0] < 0x80)
                return 1;
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

/* A control character starts at p: C0 and DEL (one byte), or C1
 * (U+0080..U+009F: 0xc2 0x80..0x9f). p holds a well-formed sequence. */
static bool is_control(const unsigned char *p)
{
        return p[0] < 0x20 || p[0] == 0x7f || (p[0] == 0xc2 && p[1] <= 0x9f);
}

bool utf8_valid_text(const char *s, bool allow_tab, size_t *ret_offset)
{
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                bool valid;
                size_t len = utf8_sequence(p, &valid);

                if (!valid || (is_control(p) && !(allow_tab && *p == '\t'))) {
                        if (ret_offset)
                                *ret_offset = (size_t) (p - (const unsigned char *) s);
                        return false;
                }
                p += len;
        }
        return true;
}

char *utf8_escape(const char *s, char *buf, size_t size)
{
        const unsigned char *p = (const unsigned char *) s;
        size_t n = 0;

        if (size == 0)
                return buf;
        while (*p) {
                char piece[8];
                bool valid;
                size_t len = utf8_sequence(p, &valid);

                if (*p == '\\') {
                        strcpy(piece, "\\\\");
                        len = 1;
                } else if (!valid || is_control(p)) {
                        snprintf(piece, sizeof(piece), "\\x%02x", *p);
                        len = 1;
                } else {
                        memcpy(piece, p, len);
                        piece[len] = '\0';
                }
                if (n + strlen(piece) >= size)
                        break;
                memcpy(buf + n, piece, strlen(piece));
                n += strlen(piece);
                p += len;
        }
        buf[n] = '\0';
        return buf;
}
