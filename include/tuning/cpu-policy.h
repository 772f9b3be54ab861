/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The values of the [cpu] section, pure (src/tuning/cpu-policy.c): tuned's
 * energy_perf_bias names and force_latency syntax, and which idle states a
 * latency limit disables. The I/O side is src/tuning/plan-cpu.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* energy_perf_bias: tuned's names performance (0), normal (6), powersave
 * (15), the kernel's balance-performance (4), balance-power (8) and power
 * (15), or a number 0..15. The kernel shows a number, so that is what is
 * written. -EINVAL otherwise. */
int cpu_epb_parse(const char *value, int *ret);

/* One alternative of force_latency ("cstate.id_no_zero:3|70"). */
enum latency_kind {
        LATENCY_US,             /* a number of microseconds */
        LATENCY_CSTATE_ID,      /* the exit latency of idle state N */
};

struct latency_alt {
        enum latency_kind kind;
        long value;             /* microseconds, or the state index */
        bool no_zero;           /* cstate.id_no_zero: a state of latency 0 does not resolve */
};

#define FORCE_LATENCY_ALTS_MAX 8

/* Split tuned's force_latency into its '|' alternatives (at most
 * FORCE_LATENCY_ALTS_MAX): "cstate.id:N", "cstate.id_no_zero:N" or a
 * number of microseconds (0..2000000000). -EINVAL otherwise. */
int force_latency_parse(const char *value, struct latency_alt *alts, size_t *ret_n);

/* Resolve the alternatives with the exit latencies of CPU 0's idle states
 * (latency_of(index) < 0: no such state), as tuned does: the first that
 * resolves wins. -ENOENT: none resolves. */
int force_latency_resolve(const struct latency_alt *alts, size_t n, long (*latency_of)(long index, void *userdata),
                          void *userdata, long *ret_us);

/* Does a limit of limit_us keep an idle state of that exit latency out? As
 * the kernel's PM QoS does: only a longer exit latency is excluded. */
bool cpu_idle_state_excluded(long state_latency_us, long limit_us);
