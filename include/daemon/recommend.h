/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl recommend`: the shipped profile that fits this host, with the
 * reasons, as `tuned-adm recommend` does for tuned. Pure
 * (recommend-policy.c): the daemon gathers the facts
 * (commands-advise.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct recommend_facts {
        bool kvm;                    /* dev/kvm exists */
        bool libvirt;                /* the daemon's libvirt connection is up */
        unsigned n_nodes;            /* online NUMA nodes; 0: unknown */
        uint64_t host_mem_kib;       /* MemTotal */
        unsigned n_domains;          /* running domains */
        uint64_t domains_mem_kib;    /* their memory, summed */
        unsigned n_latency_domains;  /* with locked memory (latency-sensitive) */
        uint64_t ksm_pages_sharing;  /* sys/kernel/mm/ksm/pages_sharing */
        unsigned n_rotational;       /* whole disks with queue/rotational 1 */
        unsigned n_solid;            /* and 0 */
        bool cpufreq;                /* a cpufreq policy exists */
};

#define RECOMMEND_REASONS_MAX 8

struct recommendation {
        const char *profile;
        char *reasons[RECOMMEND_REASONS_MAX]; /* the first decided, the rest inform */
        size_t n_reasons;
};

void recommend_profile(const struct recommend_facts *f, struct recommendation *ret);
void recommendation_done(struct recommendation *r);
