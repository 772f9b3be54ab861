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

/* The version of the --json contract (man/vmtunectl.schema.json): every
 * answer of `vmtunectl --json` is one object whose first member is
 * "version": this number. It changes when a member is removed, renamed or
 * changes its type; new members do not change it. */
#define JSON_OUTPUT_VERSION 1

/* Open an answer: '{"version":1' — the caller goes on with ",\"member\":". */
void json_print_open(FILE *out);

/* A whole failed answer: {"version":1,"error":msg} and a new line. */
void json_print_error(FILE *out, const char *msg);

/* Where a setting comes from, the same shape everywhere:
 * {"file":FILE,"line":N}, "line" null for a whole file (a setting derived
 * from an option of it); null when there is no file. */
void json_print_source(FILE *out, const char *file, unsigned line);
