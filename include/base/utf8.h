/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Text the configuration accepts (src/base/utf8.c, pure): keys and values
 * of profiles and vmtuned.conf are UTF-8 without control characters, so
 * that what an operator reads in a file, a log line or `vmtunectl status`
 * is what the daemon acts on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The length of the well-formed UTF-8 sequence at p (RFC 3629, section 4),
 * or, if there is none, of its maximal invalid subpart (Unicode 3.9): the
 * longest prefix that could still have begun one (at least 1, never past
 * the NUL). *ret_valid says which. */
size_t utf8_sequence(const unsigned char *p, bool *ret_valid);

/* Is s (NUL-terminated) well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates U+D800..U+DFFF, nothing above U+10FFFF, no truncated
 * sequence) without control characters: C0 (U+0000..U+001F), DEL (U+007F)
 * and C1 (U+0080..U+009F)? allow_tab lets U+0009 through: white space
 * inside a value, folded like a space (a pasted "4096<TAB>87380" from
 * tcp_rmem). On false, *ret_offset (may be NULL) is the byte offset of the
 * first character refused. */
bool utf8_valid_text(const char *s, bool allow_tab, size_t *ret_offset);

/* s for a message: printable ASCII and valid UTF-8 as they are, every other
 * byte as \xNN, a backslash as \\; cut to fit size (always NUL-terminated).
 * Returns buf. */
char *utf8_escape(const char *s, char *buf, size_t size);
