/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The values of the [hugepages] section (include/tuning/hugepages-policy.h). Pure. */
#include "tuning/hugepages-policy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/util.h"

int hugepages_amount_parse(const char *value, struct hugepages_amount *ret)
{
        static const char units[] = "KMGT";
        unsigned long long v;
        const char *u;
        char *end;

        if (!*value || *value < '0' || *value > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(value, &end, 10);
        /* bounded so that bytes, pages and percent products stay in 64 bits */
        if (errno || v > (1ULL << 40))
                return -EINVAL;
        if (!*end) {
                *ret = (struct hugepages_amount){ HP_PAGES, v };
                return 0;
        }
        if (strcmp(end, "%") == 0) {
                if (v > 100)
                        return -EINVAL;
                *ret = (struct hugepages_amount){ HP_PERCENT, v };
                return 0;
        }
        u = strchr(units, *end);
        if (!u || !*u || (end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0))
                return -EINVAL;
        for (const char *p = units; p <= u; p++) {
                if (v > (1ULL << 50))
                        return -EINVAL;
                v *= 1024;
        }
        *ret = (struct hugepages_amount){ HP_BYTES, v };
        return 0;
}

uint64_t hugepages_amount_pages(const struct hugepages_amount *a, uint64_t page_kb, uint64_t mem_kb)
{
        if (page_kb == 0)
                return 0;
        switch (a->kind) {
        case HP_PAGES:
                return a->value;
        case HP_BYTES:
                return a->value / 1024 / page_kb;
        case HP_PERCENT:
                return mem_kb * a->value / 100 / page_kb; /* mem_kb < 2^57: no overflow */
        }
        return 0;
}

bool hugepages_restore_allowed(uint64_t original, uint64_t nr, uint64_t free, uint64_t *ret_in_use)
{
        uint64_t in_use = free < nr ? nr - free : 0;

        *ret_in_use = in_use;
        return original >= in_use;
}

bool hugepages_path_is_nr(const char *path)
{
        static const char suffix[] = "/nr_hugepages";
        size_t len = strlen(path);

        return len > strlen(suffix) && strcmp(path + len - strlen(suffix), suffix) == 0;
}

char *hugepages_waiting_text(const char *original, uint64_t nr, uint64_t in_use)
{
        return xasprintf("waiting, %" PRIu64 " of %" PRIu64 " pages in use by running VMs (original %s)", in_use, nr,
                         original);
}

char *hugepages_free_path(const char *nr_path)
{
        return xasprintf("%.*s/free_hugepages", (int) (strlen(nr_path) - strlen("/nr_hugepages")), nr_path);
}
