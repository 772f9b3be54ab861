/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one JSON string writer every --json output shares. */
#pragma once

#include <stdio.h>

/* s as a JSON string ("\"", "\\" and control characters escaped), or null. */
void json_print_string(FILE *out, const char *s);
