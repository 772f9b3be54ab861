/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by the libFuzzer targets (tests/fuzz/README.md). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property the parser must keep: a broken one is a crash like any other,
 * so libFuzzer saves the input. */
#define FUZZ_CHECK(cond)                                                          \
        do {                                                                      \
                if (!(cond)) {                                                    \
                        fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, \
                                __LINE__, #cond);                                 \
                        abort();                                                  \
                }                                                                 \
        } while (0)

/* The input as the C string a reader hands the parsers: kernel files and
 * configuration files are read into a buffer and used up to the first NUL. */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                abort();
        memcpy(s, data, size);
        s[size] = '\0';
        return s;
}
