/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which shipped profile fits a host (recommend.h). The order of the
 * questions is the decision: a host that is not a KVM host gets tuned's
 * server profile; a host whose guests' memory exceeds its own, or where
 * KSM already shares pages, is run for density (overcommit is the case
 * for page sharing: IBM, "Over-commit memory resources by using page
 * sharing or ballooning"); a host with latency-sensitive guests (locked
 * memory) for latency; any other KVM host gets the default. The facts
 * that decide nothing (nodes, disks, cpufreq) are still told, because
 * they say what the profile will do here. */
#include "daemon/recommend.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>

#include "base/util.h"

static _printf_(2, 3) void reason(struct recommendation *r, const char *fmt, ...)
{
        va_list ap;

        if (r->n_reasons >= RECOMMEND_REASONS_MAX)
                return;
        va_start(ap, fmt);
        r->reasons[r->n_reasons++] = xvasprintf(fmt, ap);
        va_end(ap);
}

void recommend_profile(const struct recommend_facts *f, struct recommendation *r)
{
        *r = (struct recommendation) {};
        if (!f->kvm) {
                r->profile = "throughput-performance";
                reason(r, "no /dev/kvm: not a KVM host, so tuned's server profile without the VM settings");
        } else if (f->host_mem_kib > 0 && f->domains_mem_kib > f->host_mem_kib) {
                r->profile = "virtual-host-density";
                reason(r, "the running domains have %" PRIu64 " MiB of memory, the host %" PRIu64
                       " MiB: memory is overcommitted, and KSM (mode=auto) can make room",
                       f->domains_mem_kib / 1024, f->host_mem_kib / 1024);
        } else if (f->ksm_pages_sharing > 0) {
                r->profile = "virtual-host-density";
                reason(r, "KSM already shares pages (%" PRIu64 " sharing): this host relies on page sharing",
                       f->ksm_pages_sharing);
        } else if (f->n_latency_domains > 0) {
                r->profile = "virtual-host-latency";
                reason(r, "%u running domain(s) with locked memory: latency-sensitive guests, no page "
                       "merging for them", f->n_latency_domains);
        } else {
                r->profile = "virtual-host";
                if (f->libvirt)
                        reason(r, "a KVM host with %u running domain(s) (%" PRIu64 " of %" PRIu64
                               " MiB), no overcommit, no KSM sharing, no latency-sensitive guest",
                               f->n_domains, f->domains_mem_kib / 1024, f->host_mem_kib / 1024);
                else
                        reason(r, "a KVM host; libvirt is not connected, so no domain was looked at");
        }
        if (f->n_nodes > 1)
                reason(r, "%u NUMA nodes: the balancer places and moves the VMs", f->n_nodes);
        else if (f->n_nodes == 1)
                reason(r, "one NUMA node: the balancer has nothing to balance and stays idle");
        if (f->n_rotational + f->n_solid > 0)
                reason(r, "disks: %u rotational, %u solid-state: the profile's [disk] rules apply to the "
                       "devices they match", f->n_rotational, f->n_solid);
        reason(r, f->cpufreq ? "cpufreq is available: [cpu] settings of the profile apply"
                             : "no cpufreq on this host (a VM, or disabled): [cpu] settings are skipped");
}

void recommendation_done(struct recommendation *r)
{
        for (size_t i = 0; i < r->n_reasons; i++)
                free(r->reasons[i]);
        *r = (struct recommendation) {};
}
