/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading INI text and small text files, for profiles and the config file,
 * and the error they report (src/config/ini.c). */
#pragma once

#include "base/util.h"

/* Where a configuration or profile error is; filled by the loaders, logged
 * by their callers ("FILE:LINE: [section] key: what is wrong (allowed: ...)"). */
struct conf_error {
        char message[1024];
};

/* Error helpers: conf_error_set formats the message (err may be NULL);
 * conf_error_prefix puts "FILE:LINE: " (or "FILE: " when line is 0) in front. */
void conf_error_set(struct conf_error *err, const char *fmt, ...) _printf_(2, 3);
void conf_error_prefix(struct conf_error *err, const char *file, unsigned line);

/* The INI reader shared by profiles and the config file (src/config/ini.c).
 * Callbacks fill err without file/line and return -EINVAL; the parser puts
 * "FILE:LINE: " in front. */
struct conf_parser {
        const char *file;  /* for messages */
        void *userdata;
        /* Each "[section]" line; may be NULL. */
        int (*section)(void *userdata, const char *section, struct conf_error *err);
        /* Each "key = value" line: section, key and value trimmed. */
        int (*entry)(void *userdata, const char *section, const char *key, const char *value,
                     unsigned line, struct conf_error *err);
        /* Is the key a list option (its continuation lines joined with ", ")?
         * NULL: none is. */
        bool (*is_list)(void *userdata, const char *section, const char *key);
};

/* Parse INI text. Stops at the first error: -EINVAL with err set. */
int conf_parse_text(const char *text, const struct conf_parser *p, struct conf_error *err);

/* Read a whole (small, text) file into a NUL-terminated buffer. -errno
 * (-ENOENT: no such file), -EFBIG past 1 MiB, -EINVAL if it holds a NUL
 * byte; err says which, starting with "PATH: ". */
int conf_read_file(const char *path, char **ret, struct conf_error *err);
