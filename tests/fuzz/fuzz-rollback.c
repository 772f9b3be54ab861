/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rollback journal (src/tuning/rollback.c): read at every start, and
 * whatever it names is written back into the kernel. Reading: a journal
 * that parses names only valid paths under the root, and formats back to
 * exactly its text (it is only ever written whole by rollback_format, so
 * anything else is corruption). Writing: records made of the input
 * (NUL-separated fields, four a record) format and read back as the same
 * records, or the read refuses them because a key is empty or a path
 * could leave the root. */
#include <errno.h>

#include "base/kfile.h"
#include "tuning/rollback.h"
#include "fuzz.h"

/* Paths of the kernel trees vmtuned manages: a journal naming these with a
 * key must always be readable. */
static const char *const managed[] = {
        "proc/sys/vm/swappiness",
        "sys/kernel/mm/transparent_hugepage/enabled",
        "sys/kernel/mm/ksm/run",
        "sys/block/vda/queue/scheduler",
};

static void check_read(const char *text)
{
        struct rollback_entry *e = NULL;
        size_t n = 0, lines = 1;
        unsigned bad = 0;
        char *again;
        int r;

        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        r = rollback_parse_at(text, &e, &n, &bad);
        if (r < 0) {
                FUZZ_CHECK(r == -EBADMSG && bad >= 1 && bad <= lines);
                return;
        }
        FUZZ_CHECK(r == 0 && n + 2 == lines);
        for (size_t i = 0; i < n; i++)
                FUZZ_CHECK(*e[i].key && kfile_path_valid(e[i].path));
        again = rollback_format(e, n);
        FUZZ_CHECK(strcmp(again, text) == 0);
        free(again);
        rollback_entries_free(e, n);
}

static void check_write(const uint8_t *data, size_t size)
{
        char *copy = fuzz_text(data, size), *fields[64];
        struct rollback_entry rec[ARRAY_SIZE(fields) / 4], *e = NULL;
        size_t n_fields = 0, n, n_read = 0;
        bool plainly_valid = true, invalid = false;
        char *text;
        int r;

        for (size_t i = 0; i <= size && n_fields < ARRAY_SIZE(fields); i += strlen(copy + i) + 1)
                fields[n_fields++] = copy + i;
        n = n_fields / 4;
        for (size_t i = 0; i < n; i++) {
                rec[i] = (struct rollback_entry){
                        .key = fields[4 * i],
                        /* An empty path field stands for a managed one. */
                        .path = *fields[4 * i + 1] ? fields[4 * i + 1] : (char *) managed[i % ARRAY_SIZE(managed)],
                        .original = fields[4 * i + 2],
                        .written = fields[4 * i + 3],
                };
                plainly_valid &= *rec[i].key && !*fields[4 * i + 1];
                invalid |= !*rec[i].key || !kfile_path_valid(rec[i].path);
        }

        text = rollback_format(rec, n);
        r = rollback_parse(text, &e, &n_read);
        if (plainly_valid)
                FUZZ_CHECK(r == 0);
        if (invalid)
                FUZZ_CHECK(r == -EBADMSG);
        if (r == 0) {
                FUZZ_CHECK(n_read == n);
                for (size_t i = 0; i < n; i++)
                        FUZZ_CHECK(strcmp(e[i].key, rec[i].key) == 0 && strcmp(e[i].path, rec[i].path) == 0 &&
                                   strcmp(e[i].original, rec[i].original) == 0 &&
                                   strcmp(e[i].written, rec[i].written) == 0);
                rollback_entries_free(e, n_read);
        }
        free(text);
        free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);

        check_read(text);
        free(text);
        check_write(data, size);
        return 0;
}
