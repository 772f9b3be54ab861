/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one JSON string writer every --json output shares: every string
 * value, whatever its source (libvirt names, files, reasons), goes through
 * it, so that the output is valid JSON in valid UTF-8. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* s as a JSON string, or null if s is NULL. '"' and '\\' are escaped,
 * control characters (and DEL) written as \u00XX; well-formed UTF-8 passes
 * as it is; each maximal invalid UTF-8 subpart (Unicode 3.9) becomes one
 * U+FFFD, written as \ufffd: never a byte a JSON parser would refuse. */
void json_print_string(FILE *out, const char *s);
