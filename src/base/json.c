/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "base/json.h"
#include "base/utf8.h"

#include <stddef.h>

void json_print_string(FILE *out, const char *s)
{
        const unsigned char *p = (const unsigned char *) s;

        if (!s) {
                fputs("null", out);
                return;
        }
        fputc('"', out);
        while (*p) {
                size_t n;
                bool valid;

                if (*p == '"' || *p == '\\') {
                        fprintf(out, "\\%c", *p++);
                        continue;
                }
                if (*p < 0x20 || *p == 0x7f) {
                        fprintf(out, "\\u%04x", *p++);
                        continue;
                }
                if (*p < 0x80) {
                        fputc(*p++, out);
                        continue;
                }
                n = utf8_sequence(p, &valid);
                if (valid)
                        fwrite(p, 1, n, out);
                else
                        fputs("\\ufffd", out);
                p += n;
        }
        fputc('"', out);
}

void json_print_open(FILE *out)
{
        fprintf(out, "{\"version\":%d", JSON_OUTPUT_VERSION);
}

void json_print_error(FILE *out, const char *msg)
{
        json_print_open(out);
        fputs(",\"error\":", out);
        json_print_string(out, msg);
        fputs("}\n", out);
}

void json_print_source(FILE *out, const char *file, unsigned line)
{
        if (!file) {
                fputs("null", out);
                return;
        }
        fputs("{\"file\":", out);
        json_print_string(out, file);
        if (line)
                fprintf(out, ",\"line\":%u}", line);
        else
                fputs(",\"line\":null}", out);
}
