/* SPDX-License-Identifier: GPL-2.0-or-later */
/* import-tuned's reader of tuned.conf (src/config/tuned-parse.c): the
 * file comes from a tuned profile directory the administrator names,
 * possibly someone else's. Every line of the result is under the INI
 * reader's 200 bytes; every line not a comment is a section header or a
 * key=value that vmtuned's validator accepts (or [main]'s summary and
 * include). */
#include <string.h>

#include "config/ini.h"
#include "config/profile.h"
#include "config/tuned-import.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        char *out = tuned_import("fuzz", text);
        char section[256] = "";

        for (char *l = out, *next; *l; l = next) {
                size_t len = strcspn(l, "\n");
                char *eq;

                FUZZ_CHECK(len < 200);
                next = l + len + (l[len] == '\n');
                l[len] = '\0';
                if (l[0] == '#' || l[0] == '\0')
                        continue;
                if (l[0] == '[') {
                        FUZZ_CHECK(l[len - 1] == ']');
                        snprintf(section, sizeof(section), "%.*s", (int) len - 2, l + 1);
                        continue;
                }
                eq = strchr(l, '=');
                FUZZ_CHECK(eq != NULL);
                *eq = '\0';
                if (streq(section, "main"))
                        FUZZ_CHECK(streq(l, "summary") || streq(l, "include"));
                else
                        FUZZ_CHECK(profile_check_setting(section, l, eq + 1, NULL) == 0);
        }
        free(out);
        free(text);
        return 0;
}
