/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The values of the [cpu] section (include/tuning/cpu-policy.h). Pure. */
#include "tuning/cpu-policy.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/util.h"

int cpu_epb_parse(const char *value, int *ret)
{
        static const struct {
                const char *name;
                int value;
        } names[] = {
                /* tuned's names, as x86_energy_perf_policy(8) maps them */
                { "performance", 0 }, { "normal", 6 }, { "powersave", 15 },
                /* the kernel's own (arch/x86/kernel/cpu/intel_epb.c) */
                { "balance-performance", 4 }, { "balance-power", 8 }, { "power", 15 },
        };
        long v;

        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (streq(value, names[i].name)) {
                        *ret = names[i].value;
                        return 0;
                }
        if (parse_long(value, 0, 15, &v) < 0)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

/* A whole number in [0, max] after prefix; -EINVAL otherwise. */
static int number_after(const char *s, const char *prefix, long max, long *ret)
{
        if (!startswith(s, prefix))
                return -EINVAL;
        return parse_long(s + strlen(prefix), 0, max, ret);
}

int force_latency_parse(const char *value, struct latency_alt *alts, size_t *ret_n)
{
        const char *s = value;
        size_t n = 0;

        for (;;) {
                size_t len = strcspn(s, "|");
                char item[64];
                struct latency_alt a = {};

                if (len == 0 || len >= sizeof(item) || n == FORCE_LATENCY_ALTS_MAX)
                        return -EINVAL;
                memcpy(item, s, len);
                item[len] = '\0';
                if (number_after(item, "cstate.id_no_zero:", 1024, &a.value) == 0) {
                        a.kind = LATENCY_CSTATE_ID;
                        a.no_zero = true;
                } else if (number_after(item, "cstate.id:", 1024, &a.value) == 0) {
                        a.kind = LATENCY_CSTATE_ID;
                } else if (parse_long(item, 0, 2000000000, &a.value) == 0) {
                        a.kind = LATENCY_US;
                } else {
                        /* cstate.name:, "n/a" and the rest of tuned's forms: not supported */
                        return -EINVAL;
                }
                alts[n++] = a;
                if (!s[len])
                        break;
                s += len + 1;
        }
        *ret_n = n;
        return 0;
}

int force_latency_resolve(const struct latency_alt *alts, size_t n, long (*latency_of)(long index, void *userdata),
                          void *userdata, long *ret_us)
{
        for (size_t i = 0; i < n; i++) {
                long l;

                if (alts[i].kind == LATENCY_US) {
                        *ret_us = alts[i].value;
                        return 0;
                }
                l = latency_of(alts[i].value, userdata);
                if (l < 0 || (l == 0 && alts[i].no_zero))
                        continue;
                *ret_us = l;
                return 0;
        }
        return -ENOENT;
}

bool cpu_idle_state_excluded(long state_latency_us, long limit_us)
{
        return state_latency_us > limit_us;
}
