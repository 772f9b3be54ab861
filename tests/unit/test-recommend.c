/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `vmtunectl recommend`'s decision (daemon/recommend-policy.c): each
 * fact that decides picks its profile, in order, and says why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "daemon/recommend.h"

#define GIB (UINT64_C(1024) * 1024)

static const struct recommend_facts kvm_host = {
        .kvm = true, .libvirt = true, .n_nodes = 2, .host_mem_kib = 64 * GIB,
        .n_domains = 3, .domains_mem_kib = 24 * GIB, .n_solid = 1, .cpufreq = true,
};

static void assert_recommends(const struct recommend_facts *f, const char *profile, const char *first_reason)
{
        struct recommendation r;

        recommend_profile(f, &r);
        assert_string_equal(r.profile, profile);
        assert_true(r.n_reasons >= 1);
        if (!strstr(r.reasons[0], first_reason))
                fail_msg("%s: first reason \"%s\", want \"%s\"", profile, r.reasons[0], first_reason);
        recommendation_done(&r);
}

static void test_each_fact_picks_its_profile(void **state)
{
        struct recommend_facts f = kvm_host;

        assert_recommends(&f, "virtual-host", "a KVM host with 3 running domain(s) (24576 of 65536 MiB)");
        f.n_latency_domains = 1;
        assert_recommends(&f, "virtual-host-latency", "1 running domain(s) with locked memory");
        f.ksm_pages_sharing = 5000;
        assert_recommends(&f, "virtual-host-density", "KSM already shares pages (5000 sharing)");
        f.ksm_pages_sharing = 0;
        f.domains_mem_kib = 80 * GIB;
        assert_recommends(&f, "virtual-host-density", "have 81920 MiB of memory, the host 65536 MiB");
        f.kvm = false;
        assert_recommends(&f, "throughput-performance", "no /dev/kvm");
        f = kvm_host;
        f.libvirt = false;
        f.n_domains = 0;
        f.domains_mem_kib = 0;
        assert_recommends(&f, "virtual-host", "libvirt is not connected");
}

static void test_the_other_facts_are_told(void **state)
{
        struct recommend_facts f = kvm_host;
        struct recommendation r;

        recommend_profile(&f, &r);
        assert_int_equal(r.n_reasons, 4);
        assert_string_equal(r.reasons[1], "2 NUMA nodes: the balancer places and moves the VMs");
        assert_non_null(strstr(r.reasons[2], "disks: 0 rotational, 1 solid-state"));
        assert_non_null(strstr(r.reasons[3], "cpufreq is available"));
        recommendation_done(&r);
        f.n_nodes = 1;
        f.cpufreq = false;
        f.n_solid = 0;
        recommend_profile(&f, &r);
        assert_int_equal(r.n_reasons, 3);
        assert_non_null(strstr(r.reasons[1], "one NUMA node"));
        assert_non_null(strstr(r.reasons[2], "no cpufreq"));
        recommendation_done(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_each_fact_picks_its_profile),
                cmocka_unit_test(test_the_other_facts_are_told),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
