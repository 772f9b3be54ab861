/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl advise`: per-VM advice from the guides (the source documents
 * of DESIGN.md), each piece naming the document and section it comes
 * from. Pure: a domain's XML and a small summary of the host in, a list of
 * advice out; the daemon reads both (daemon/commands-advise.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/bitmap.h"

/* A VM at least this large is "large" for the huge-page advice. The guides
 * give no size; vmtuned's choice: 8 GiB is 4 Mi 4 KiB pages to walk and
 * 4096 2 MiB ones, where the TLB argument of SUSE 4.1 starts to matter. */
#define ADVISE_LARGE_VM_KIB (UINT64_C(8) * 1024 * 1024)

struct advise_node {
        uint64_t mem_kib;            /* MemTotal of the node */
        struct bitmap cpus;          /* its CPUs */
};

struct advise_hugepages {
        uint64_t size_kib;           /* 2048, 1048576 */
        uint64_t total;              /* pages in the pool, all nodes */
        uint64_t free;
};

/* What the rules need to know about the host. A zeroed struct is a host
 * the daemon knows nothing about: rules that need a fact it lacks stay
 * silent rather than guess. */
struct advise_host {
        const struct advise_node *nodes;
        size_t n_nodes;
        unsigned n_cpus;             /* online CPUs; 0: unknown */
        const struct advise_hugepages *hugepages;
        size_t n_hugepages;
        uint64_t default_hugepage_kib; /* Hugepagesize of /proc/meminfo; 0: unknown */
        bool ksm_running;            /* sys/kernel/mm/ksm/run is 1 */
        bool vhost_net_known;        /* whether dev/vhost-net was looked for */
        bool vhost_net;              /* dev/vhost-net exists */
        bool balancer;               /* vmtuned's balancer runs */
        bool latency_profile;        /* the active profile is for latency */
};

struct advice {
        char *domain;
        const char *rule;            /* a stable id: "disk-cache" */
        char *text;                  /* what to change and why, for this VM */
        const char *source;          /* document and section */
};

struct advice_list {
        struct advice *v;
        size_t n;
};

/* The rules, for documentation and tests: id and source of each. */
struct advise_rule {
        const char *id;
        const char *source;
};
const struct advise_rule *advise_rules(size_t *ret_n);

/* Append the advice for one domain (active: it runs, so its huge pages
 * are already taken from the pool). -EINVAL if xml is not a <domain>
 * document; nothing is appended then. */
int advise_domain(const char *xml, bool active, const struct advise_host *host, struct advice_list *list);

void advice_list_free(struct advice_list *list);

/* Text: one line a piece of advice, "DOMAIN: RULE: TEXT [SOURCE]", or
 * "no advice" lines; JSON: {"advice":[{"domain":..,"rule":..,"text":..,
 * "source":..}],"domains":N}. */
void advice_print(FILE *out, const struct advice_list *list, size_t n_domains, bool json);
