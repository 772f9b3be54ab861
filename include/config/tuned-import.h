/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl import-tuned DIR`: a tuned profile (DIR/tuned.conf) as a
 * vmtuned profile. Pure (tuned-parse.c): text in, text out. */
#pragma once

/* The vmtuned profile for tuned.conf text `text` of profile `name`, as a
 * malloc'd string. Every setting vmtuned's validator accepts
 * (profile_check_setting) is carried over by its name; every other line
 * is kept as a comment ("#- ") under a comment that says why: a tuned
 * plugin vmtuned does not have ([script], [bootloader], [modules], ...),
 * a ${variable}, a conditional instance (uname_regex=, cpuinfo_regex=),
 * a plugin option, or the validator's own message. Lines stay under
 * 200 bytes (the INI reader's limit). */
char *tuned_import(const char *name, const char *text);
