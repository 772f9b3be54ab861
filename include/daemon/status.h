/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daemon tells about itself and its profiles: the answers of
 * `vmtunectl status`, `profile list` and `profile show`, as text for people
 * or JSON for scripts. Formatting only: the callers (commands.c) gather. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct daemon;
struct profile;
struct verify_report;

/* The daemon's state. v: a verify run of the applied settings (drift
 * counts), NULL when they are not applied. */
void status_print(FILE *out, const struct daemon *d, const struct verify_report *v, bool json);

/* Every profile found in dirs, with its summary (each is loaded, so a
 * broken one shows its error); active is marked, "(off)" when !applied. */
void status_print_profiles(FILE *out, const char *const *dirs, size_t n_dirs, const char *active,
                           bool applied, bool json);

/* A resolved profile: every setting with the file and line it came from. */
void status_print_profile(FILE *out, const struct profile *p, bool json);

/* "2h 3min", "45s": a duration for people. buf gets at most size bytes. */
void status_format_duration(char *buf, size_t size, unsigned long long sec);
