/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The KSM module's parsers (src/tuning/ksm-policy.c): /proc/meminfo,
 * /proc/pressure/memory (PSI) and /proc/PID/ksm_stat, each on the whole
 * input. What parses is what the policy can use: a total above zero, PSI
 * averages that are numbers and not negative. */
#include <errno.h>
#include <math.h>

#include "tuning/ksm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_text(data, size);
        uint64_t total, avail;
        double some, full;
        struct ksm_proc_stat st;
        int r;

        r = ksm_parse_meminfo(text, &total, &avail);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENODATA);
        if (r == 0)
                FUZZ_CHECK(total > 0);
        r = ksm_parse_psi(text, &some, &full);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENODATA);
        if (r == 0)
                FUZZ_CHECK(!isnan(some) && !isnan(full) && some >= 0 && full >= 0);
        r = ksm_parse_proc_stat(text, &st);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENODATA);
        free(text);
        return 0;
}
